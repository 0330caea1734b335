"""Webhook mode (TELEGRAM_MODE=webhook): Telegram POSTs each update to PUBLIC_URL + /telegram.

The route lives on the bot's own HTTP server (`http_server.py`, aiohttp; no second web framework). A call
without the right `X-Telegram-Bot-Api-Secret-Token` is answered 403 and never acted on (compared in
constant time). A good one is acknowledged at once and handed to python-telegram-bot's update queue,
where the Application's handlers take it as they would a polled update, so a slow command never makes
Telegram redeliver. Until the Application exists the route answers 503 (Telegram retries later).
"""

from __future__ import annotations

import hmac
import json
from typing import Any

import structlog
from aiohttp import web
from telegram import Update
from telegram.ext import Application

from bot.edges.http_server import read_body

__all__ = ["SECRET_HEADER", "WEBHOOK_PATH", "WebhookReceiver"]

log = structlog.get_logger(__name__)

WEBHOOK_PATH = "/telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
MAX_UPDATE_BYTES = 1024 * 1024  # an update is a few KiB; documents arrive as file ids, not bodies


class WebhookReceiver:
    """The webhook route; `attach` the Application once it is built."""

    def __init__(self, secret: str) -> None:
        self._secret = secret.encode()
        self.app: Application[Any, Any, Any, Any, Any, Any] | None = None
        self.received = 0
        self.refused = 0

    def attach(self, app: Application[Any, Any, Any, Any, Any, Any]) -> None:
        self.app = app

    def routes(self) -> list[web.RouteDef]:
        return [web.post(WEBHOOK_PATH, self.receive)]

    async def receive(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self._secret):
            self.refused += 1
            log.warning("webhook_refused", reason="wrong or missing secret token", remote=request.remote)
            return web.Response(status=403, text="forbidden")
        app = self.app
        if app is None or not app.running:
            return web.Response(status=503, text="starting")
        body = await read_body(request, MAX_UPDATE_BYTES)
        if body is None:
            return web.Response(status=413, text="too large")
        try:
            data = json.loads(body)
            if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
                raise ValueError("not an update")
            update = Update.de_json(data, app.bot)
        except (ValueError, TypeError, KeyError) as exc:
            # answered 200: a body Telegram sent cannot get better by being sent again
            log.warning("webhook_bad_update", error=f"{type(exc).__name__}: {exc}"[:200])
            return web.Response(text="ignored")
        self.received += 1
        await app.update_queue.put(update)
        return web.Response(text="ok")
