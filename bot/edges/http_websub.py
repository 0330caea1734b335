"""`/websub/<token>`: the WebSub callbacks, one per subscription, answered as the W3C Recommendation says.

GET is the hub verifying intent: 200 with `hub.challenge` echoed, for a (un)subscription the bot asked
for, else 404 (a denial is recorded and answered 200). POST is content distribution: 404 for an unknown
callback, 413 for a body over MAX_FEED_BYTES (refused before it is read), 410 for a callback being
unsubscribed, else 202 at once, whether the signature matched (the body is ingested in the background)
or not (ignored, as the spec says: a forger learns nothing). The decisions are `WebSubService`'s.
"""

from __future__ import annotations

from aiohttp import web

from bot.edges.http_server import read_body
from bot.services.websub import WebSubService

CALLBACK_PATH = "/websub/{token}"


def websub_routes(websub: WebSubService, *, max_bytes: int) -> list[web.RouteDef]:
    async def verify(request: web.Request) -> web.Response:
        answer = await websub.verify(request.match_info["token"], request.query)
        if answer is None:
            return web.Response(status=404, text="no such subscription request")
        return web.Response(text=answer, content_type="text/plain")

    async def push(request: web.Request) -> web.Response:
        token = request.match_info["token"]
        if not await websub.known(token):
            websub.quiet.warning("websub_unknown_callback", token=token[:8])
            return web.Response(status=404, text="no such subscription")
        body = await read_body(request, max_bytes)
        if body is None:
            return web.Response(status=413, text="body over MAX_FEED_BYTES")
        verdict = await websub.receive(
            token,
            body,
            content_type=request.headers.get("Content-Type"),
            signature=request.headers.get("X-Hub-Signature"),
        )
        return web.Response(status=verdict.status)

    return [web.get(CALLBACK_PATH, verify), web.post(CALLBACK_PATH, push)]
