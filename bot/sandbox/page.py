"""The sandbox's live page over HTTP: static files, a state snapshot, Server-Sent Events, chat and faults.

What the events mean for the page (filtering, identities, preview cards, status) is `SandboxControls`' job in
`controls`; the sample news sites are served by `site`.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import structlog
from aiohttp import web

from bot.sandbox.controls import SandboxControls

log = structlog.get_logger(__name__)

CONTROLS_KEY = web.AppKey("sandbox_controls", SandboxControls)
STATIC_DIR = Path(__file__).resolve().parent / "static"
_STATIC_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}
_KEEPALIVE_SECONDS = 15.0
_MAX_TEXT = 4096
# The page's own files only ever come from this package: no CDN, nothing from the internet.
_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def add_page_routes(app: web.Application, controls: SandboxControls) -> None:
    """The page at /, its files under /static/, and the JSON/SSE API under /api/."""
    app[CONTROLS_KEY] = controls
    app.router.add_get("/", _index)
    app.router.add_get("/static/{name}", _static)
    app.router.add_get("/api/state", _state)
    app.router.add_get("/api/status", _status)
    app.router.add_get("/api/events", _events)
    app.router.add_post("/api/send", _send)
    app.router.add_post("/api/fault", _fault)
    app.router.add_post("/api/press", _press)
    app.router.add_post("/api/inline", _inline)


def _file(name: str) -> web.Response:
    path = STATIC_DIR / name
    content_type = _STATIC_TYPES.get(path.suffix)
    if content_type is None or path.parent != STATIC_DIR or not path.is_file():
        raise web.HTTPNotFound(text="no such file")
    return web.Response(
        body=path.read_bytes(),
        content_type=content_type,
        charset="utf-8",
        headers={**_SECURITY_HEADERS, "Cache-Control": "no-cache"},
    )


async def _index(request: web.Request) -> web.Response:
    return _file("index.html")


async def _static(request: web.Request) -> web.Response:
    return _file(request.match_info["name"])


async def _state(request: web.Request) -> web.Response:
    return web.json_response(request.app[CONTROLS_KEY].snapshot(), headers={"Cache-Control": "no-store"})


async def _status(request: web.Request) -> web.Response:
    status = await request.app[CONTROLS_KEY].status()
    return web.json_response(status, headers={"Cache-Control": "no-store"})


async def _events(request: web.Request) -> web.StreamResponse:
    """Server-Sent Events: one `data:` line of JSON per page-relevant event of the stand-in."""
    controls = request.app[CONTROLS_KEY]
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    )
    await response.prepare(request)
    queue = controls.api.subscribe()
    idle = 0.0
    try:
        await response.write(b"retry: 1500\n\n")
        while not controls.stopping.is_set():
            try:
                event = await asyncio.wait_for(queue.get(), timeout=1.0)
            except TimeoutError:
                idle += 1.0
                if idle >= _KEEPALIVE_SECONDS:
                    idle = 0.0
                    await response.write(b": keep-alive\n\n")
                continue
            idle = 0.0
            payload = controls.describe(event)
            if payload is not None:
                await response.write(f"data: {json.dumps(payload, ensure_ascii=False)}\n\n".encode())
    except ConnectionError:
        pass  # the viewer closed the page
    finally:
        controls.api.unsubscribe(queue)
    return response


async def _json_body(request: web.Request) -> dict[str, Any]:
    """Only `application/json` is accepted, so a foreign page cannot post a form here."""
    if request.content_type != "application/json":
        raise _bad("send JSON (Content-Type: application/json)", status=415)
    try:
        body = await request.json()
    except ValueError:
        raise _bad("the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise _bad("the body must be a JSON object")
    return body


def _bad(message: str, *, status: int = 400) -> web.HTTPException:
    error_class = web.HTTPUnsupportedMediaType if status == 415 else web.HTTPBadRequest
    return error_class(text=json.dumps({"error": message}), content_type="application/json")


_LANGUAGE_CODE = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8}){0,3}")


async def _send(request: web.Request) -> web.Response:
    """The visitor writes to the bot as the chosen identity: {"identity": "reader"|"admin"|…, "text": "...",
    "language": "zh-hans"} (the language is optional: the app's language_code Telegram would send)."""
    body = await _json_body(request)
    controls = request.app[CONTROLS_KEY]
    identity, text, reply_to = _identity(body, controls), body.get("text"), body.get("reply_to")
    if not isinstance(text, str) or not text.strip():
        raise _bad("type a message first, e.g. /latest")
    if len(text) > _MAX_TEXT:
        raise _bad(f"a message is at most {_MAX_TEXT} characters")
    if reply_to is not None and (not isinstance(reply_to, int) or isinstance(reply_to, bool)):
        raise _bad("reply_to must be a message id")
    language = body.get("language") or None  # the writer's Telegram app language (a language_code)
    if language is not None and (not isinstance(language, str) or not _LANGUAGE_CODE.fullmatch(language)):
        raise _bad("language must be a language code such as en, zh-hans or ms")
    try:
        update_id = controls.send(identity, text.strip(), reply_to, language=language)
    except ValueError as exc:
        raise _bad(str(exc)) from None
    return web.json_response({"ok": True, "update_id": update_id})


async def _inline(request: web.Request) -> web.Response:
    """The reader's inline query {"text": …, "offset": ""}: the bot's results as a client lists them."""
    body = await _json_body(request)
    text, offset = body.get("text", ""), body.get("offset", "")
    if not isinstance(text, str) or not isinstance(offset, str):
        raise _bad("text and offset must be strings")
    if len(text) > 256:
        raise _bad("an inline query is at most 256 characters")
    try:
        answer = await request.app[CONTROLS_KEY].inline(text, offset[:64])
    except TimeoutError:
        raise _bad("the bot did not answer the inline query") from None
    return web.json_response(answer)


def _identity(body: dict[str, Any], controls: SandboxControls) -> str:
    identity = body.get("identity")
    if not isinstance(identity, str) or identity not in controls.writers:
        raise _bad(f"identity must be one of {', '.join(controls.writers)}")
    return identity


async def _press(request: web.Request) -> web.Response:
    """The visitor presses an inline button: {"identity": …, "message_id": 12, "button": "✅ Post"}."""
    body = await _json_body(request)
    controls = request.app[CONTROLS_KEY]
    identity, message_id, button = _identity(body, controls), body.get("message_id"), body.get("button")
    if not isinstance(message_id, int) or isinstance(message_id, bool) or not isinstance(button, str):
        raise _bad("send message_id (a number) and button (its label)")
    try:
        query_id = controls.press(identity, message_id, button)
    except ValueError as exc:
        raise _bad(str(exc)) from None
    return web.json_response({"ok": True, "query_id": query_id})


async def _fault(request: web.Request) -> web.Response:
    """Make Telegram misbehave: {"action": "flood" | "outage" | "kick" | "restore" | "clear"}."""
    body = await _json_body(request)
    controls = request.app[CONTROLS_KEY]
    action = body.get("action")
    if not isinstance(action, str) or action not in controls.fault_actions:
        raise _bad(f"action must be one of {', '.join(controls.fault_actions)}")
    message = controls.apply_fault(action)
    return web.json_response({"ok": True, "message": message, "faults": controls.fault_state()})
