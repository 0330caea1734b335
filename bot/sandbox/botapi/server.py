"""A local stand-in for the Telegram Bot API: HTTP on loopback that python-telegram-bot talks to unmodified.

This module owns the server: routing `/bot<token>/<method>`, reading form, JSON and multipart bodies, and
answering like Telegram. The methods are in `methods`, the state and shared checks in
`state`, the test controls (chats, injection, faults, waiting) in `harness`.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Callable
from types import TracebackType
from typing import Self

import structlog
from aiohttp import web

from bot.sandbox.botapi.harness import BotAPIHarness
from bot.sandbox.botapi.model import (
    ApiError,
    JSONDict,
    UploadedFile,
    decode_form_value,
    decode_params,
)

__all__ = ["LocalBotAPI"]

log = structlog.get_logger(__name__)


class LocalBotAPI(BotAPIHarness):
    """An aiohttp server speaking the Bot API on 127.0.0.1, with recording, injection and fault helpers.

    Use `async with LocalBotAPI() as api:` (or `start()` / `stop()`), register channels with `add_chat`, and
    point the bot at `api.api_url`. Flood windows are (messages, seconds) and can be shortened for tests;
    `clock` (monotonic seconds) drives them.
    """

    def __init__(
        self,
        token: str = "123456:TEST-token",  # noqa: S107 - a fake token for tests and the sandbox
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        bot_username: str = "newsbot_test_bot",
        bot_first_name: str = "Newsbot Test",
        enforce_limits: bool = True,
        channel_limit: tuple[int, float] = (20, 60.0),
        private_limit: tuple[int, float] = (3, 1.0),
        global_limit: tuple[int, float] = (30, 1.0),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(
            token,
            bot_username=bot_username,
            bot_first_name=bot_first_name,
            enforce_limits=enforce_limits,
            channel_limit=channel_limit,
            private_limit=private_limit,
            global_limit=global_limit,
            clock=clock,
        )
        self.host = host
        self._wanted_port = port
        self._port: int | None = None
        self._runner: web.AppRunner | None = None

    # -- lifecycle -----------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Bind the socket and start serving; `api_url` is valid afterwards."""
        if self._runner is not None:
            return
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", self.serve_file)
        app.router.add_route("*", "/{tail:.*}", self._not_found)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self._wanted_port))
            site = web.SockSite(runner, sock)
            await site.start()
        except BaseException:
            sock.close()
            await runner.cleanup()
            raise
        self._port = sock.getsockname()[1]
        self._runner = runner
        self.closing = False
        log.debug("local_botapi_started", port=self._port)

    async def stop(self) -> None:
        """Answer pending long polls and hangs at once, then close the server and its connections."""
        if self._runner is None:
            return
        self.closing = True
        self.notify()
        await self.stop_webhook_delivery()
        runner, self._runner = self._runner, None
        await runner.cleanup()
        log.debug("local_botapi_stopped", port=self._port)

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("LocalBotAPI is not started")
        return self._port

    @property
    def api_url(self) -> str:
        """The server's root, what the bot gets as TELEGRAM_API_URL; methods are at `/bot<token>/<method>`."""
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """What python-telegram-bot's `ApplicationBuilder().base_url()` takes: `api_url` + "/bot"."""
        return f"{self.api_url}/bot"

    @property
    def base_file_url(self) -> str:
        """What `ApplicationBuilder().base_file_url()` takes: files are at `/file/bot<token>/<file_path>`."""
        return f"{self.api_url}/file/bot"

    # -- HTTP ----------------------------------------------------------------------------------------------

    async def _not_found(self, request: web.Request) -> web.Response:
        return web.json_response(ApiError(404).payload(), status=404)

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(ApiError(401).payload(), status=401)
        entry = self.resolve_method(request.match_info["method"])
        if entry is None:
            return web.json_response(ApiError(404).payload(), status=404)
        name, method = entry
        try:
            params = await _read_params(request)
        except ApiError as e:
            return self._error_response(name, e)
        self.requests.append((name, params))
        try:
            await self.apply_faults(name, params)
            result = await method(params)
        except ApiError as e:
            if e.status == 409:
                await asyncio.sleep(0)  # let a pending disconnect of this poll's client land first
                if request.transport is None:
                    # A long poll its client abandoned (PTB cancels it on stop), ended by the next
                    # getUpdates: nobody reads this answer, so it is no error worth recording.
                    return web.json_response(e.payload(), status=e.status)
            return self._error_response(name, e)
        except Exception:  # a bug in the stand-in: answer like Telegram's 500 so the client sees an error
            log.exception("local_botapi_method_failed", method=name)
            return self._error_response(name, ApiError(500))
        self.notify()
        return web.json_response({"ok": True, "result": result})

    def _error_response(self, method: str, error: ApiError) -> web.Response:
        self.errors.append((method, error.status, error.description))
        self.stats[f"status_{error.status}"] += 1
        if method != "getUpdates":
            self.publish(
                {
                    "event": "api_error",
                    "method": method,
                    "status": error.status,
                    "description": error.description,
                }
            )
        self.notify()
        return web.json_response(error.payload(), status=error.status)


async def _read_params(request: web.Request) -> JSONDict:
    """The call's parameters from the query string and a JSON, urlencoded or multipart body."""
    params = decode_params(request.query)
    if not request.can_read_body:
        return params
    content_type = request.content_type
    if content_type == "application/json":
        try:
            body = json.loads(await request.read() or b"{}")
        except ValueError as e:
            raise ApiError(400, "Bad Request: can't parse JSON object") from e
        if not isinstance(body, dict):
            raise ApiError(400, "Bad Request: parameters must be a JSON object")
        params.update(body)
    elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        for name, value in form.items():
            if isinstance(value, web.FileField):
                content = value.file.read()
                params[name] = UploadedFile(value.filename, value.content_type, len(content), content)
            else:
                params[name] = decode_form_value(name, str(value))
    return params
