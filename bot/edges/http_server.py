"""The bot's own HTTP server (aiohttp.web): one listener on `HTTP_LISTEN`, routes added by each capability.

Capabilities add their routes before `start` (update pings: `http_pings.py`; WebSub callbacks, webhooks
and health later), each through `add_routes`. The server speaks plain HTTP: in production it sits behind
a reverse proxy that terminates TLS at `PUBLIC_URL`. A busy or unusable address stops start-up with one
ConfigError line. Access logs are off (a ping flood must not flood the log); each route logs what matters.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable

import structlog
from aiohttp import web

from bot.core.errors import ConfigError
from bot.settings import parse_listen

log = structlog.get_logger(__name__)

SHUTDOWN_GRACE = 2.0  # seconds in-flight requests get when the bot stops


class HttpServer:
    """`add_routes`, then `start`; `url` is where it listens (with the real port when 0 was asked)."""

    def __init__(self, listen: str, *, max_body: int) -> None:
        self.listen = listen
        self.host, self.port = parse_listen(listen)
        # aiohttp refuses larger bodies with 413 before a handler reads them
        self.app = web.Application(client_max_size=max_body)
        self._runner: web.AppRunner | None = None

    def add_routes(self, routes: Iterable[web.AbstractRouteDef]) -> None:
        self.app.add_routes(list(routes))

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def start(self) -> None:
        runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=SHUTDOWN_GRACE)
        await runner.setup()
        try:
            sock = _bind(self.host, self.port)
        except OSError as exc:
            await runner.cleanup()
            reason = exc.strerror or str(exc)
            raise ConfigError(f"HTTP_LISTEN {self.listen}: cannot listen there: {reason}") from None
        await web.SockSite(runner, sock).start()
        self.port = sock.getsockname()[1]
        self._runner = runner
        log.info("http_server_started", url=self.url)

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()


async def read_body(request: web.Request, limit: int) -> bytes | None:
    """The whole request body, however it arrives (a Content-Length, chunks, many small reads), or None
    as soon as it is larger than `limit` bytes (the caller answers 413; the rest is never read)."""
    if (request.content_length or 0) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_any():
        size += len(chunk)
        if size > limit:  # a body without (or with a false) Content-Length
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _bind(host: str, port: int) -> socket.socket:
    """A listening socket; no SO_REUSEPORT, so a port another process holds is an error, not shared."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    infos = socket.getaddrinfo(host, port, family, socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # restart while old sockets linger
        sock.bind(infos[0][4])
        sock.listen(128)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock
