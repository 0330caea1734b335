"""`POST /ping`: update pings over HTTP, answered the way each sender expects.

XML-RPC senders (WordPress's Update Services) get a weblogUpdates struct: `flerror` false when the ping
named a feed this bot reads, true otherwise (HTTP 200, as XML-RPC answers), and 400 for a body that is
malformed or declares a DOCTYPE or entities. Form and JSON senders get JSON: 202 when a feed is being
read, 404 when the URL is not a configured feed, 400 when unreadable. Bodies over 64 KiB get 413 before
they are read. The decisions are `PingService`'s; reading the body is `bot.core.pings`'.
"""

from __future__ import annotations

from aiohttp import web

from bot.core.pings import MAX_PING_BYTES, PingError, ping_urls, xmlrpc_answer
from bot.edges.http_server import read_body
from bot.services.pings import PingService

XML_TYPE = "text/xml"


def _is_xml(body: bytes, content_type: str) -> bool:
    return "xml" in content_type or body.lstrip()[:1] == b"<"


def ping_routes(pings: PingService) -> list[web.RouteDef]:
    async def ping(request: web.Request) -> web.Response:
        body = await read_body(request, MAX_PING_BYTES)
        if body is None:
            return web.json_response({"ok": False, "error": "ping body over 64 KiB"}, status=413)
        xml = _is_xml(body, request.content_type)
        try:
            urls = ping_urls(body, request.content_type)
        except PingError as exc:
            pings.quiet.warning("ping_refused", error=str(exc))
            if xml:
                return _xml(xmlrpc_answer(ok=False, message=str(exc)), status=400)
            return web.json_response({"ok": False, "error": str(exc)}, status=400)
        outcome = await pings.ping(urls)
        if xml:
            message = "Thanks for the ping." if outcome.feeds else "No feed of this site is read here."
            return _xml(xmlrpc_answer(ok=bool(outcome.feeds), message=message))
        if not outcome.feeds:
            return web.json_response({"ok": False, "error": "no configured feed matches"}, status=404)
        return web.json_response(
            {"ok": True, "feeds": list(outcome.feeds), "fetching": list(outcome.fetching)}, status=202
        )

    return [web.post("/ping", ping)]


def _xml(body: bytes, status: int = 200) -> web.Response:
    return web.Response(body=body, status=status, content_type=XML_TYPE, charset="utf-8")
