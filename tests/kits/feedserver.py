"""A real HTTP server on 127.0.0.1 serving test feeds and pages; the tests decide what each path returns.

Each path has a `Route`: body and headers, an optional ETag/Last-Modified that answer conditional requests
with 304, a delay before answering, any status code, a redirect, gzip, or a streamed body of N bytes sent
in chunks without Content-Length (an oversized feed). Every request is recorded (path and headers) and
counted, and the peak number of requests in flight is kept, so tests can check politeness.

Usage:
    async with FeedServer() as server:
        server.route("/feed.xml", body=RSS, etag='"v1"')
        url = server.url("/feed.xml")
"""

from __future__ import annotations

import asyncio
import gzip as gzip_module
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

RSS_TYPE = "application/rss+xml; charset=utf-8"
ATOM_TYPE = "application/atom+xml; charset=utf-8"
JSON_FEED_TYPE = "application/feed+json"
HTML_TYPE = "text/html; charset=utf-8"


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str | None = RSS_TYPE
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None
    delay: float = 0.0
    location: str | None = None  # with a 3xx status: where to send the client
    gzip: bool = False
    stream_bytes: int | None = None  # send this many bytes in chunks, without Content-Length


@dataclass(frozen=True)
class SeenRequest:
    path: str
    headers: dict[str, str]
    client_port: int  # the same port twice = a reused keep-alive connection


class FeedServer:
    """aiohttp on an ephemeral loopback port. Unknown paths answer 404."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host  # any 127.x address serves on loopback (tests that need two "hosts")
        self.routes: dict[str, Route] = {}
        self.hits: Counter[str] = Counter()
        self.requests: list[SeenRequest] = []
        self.active = 0
        self.peak_active = 0
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def start(self) -> FeedServer:
        app = web.Application()
        app.router.add_route("GET", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.2)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        server = site._server  # aiohttp exposes the bound port only here
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FeedServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    def route(self, path: str, body: bytes | str = b"", **options: Any) -> Route:
        """Serve `body` (str is UTF-8 encoded) at `path` with the given `Route` options; replaces any."""
        data = body.encode("utf-8") if isinstance(body, str) else body
        route = Route(body=data, **options)
        self.routes[path] = route
        return route

    def redirect(self, path: str, to: str, status: int = 301) -> Route:
        return self.route(path, status=status, location=to, content_type=None)

    def requests_to(self, path: str) -> list[SeenRequest]:
        return [r for r in self.requests if r.path == path]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path_qs if request.query_string else request.path
        self.hits[path] += 1
        peer = request.transport.get_extra_info("peername") if request.transport else None
        self.requests.append(SeenRequest(path, dict(request.headers), peer[1] if peer else 0))
        self.active += 1
        self.peak_active = max(self.peak_active, self.active)
        try:
            route = self.routes.get(path) or self.routes.get(request.path)
            if route is None:
                return web.Response(status=404, text="not found")
            if route.delay:
                await asyncio.sleep(route.delay)
            return await self._respond(request, route)
        finally:
            self.active -= 1

    async def _respond(self, request: web.Request, route: Route) -> web.StreamResponse:
        headers = dict(route.headers)
        if route.etag:
            headers["ETag"] = route.etag
        if route.last_modified:
            headers["Last-Modified"] = route.last_modified
        if route.location:
            headers["Location"] = route.location
        if route.status == 200 and _not_modified(request, route):
            return web.Response(status=304, headers=headers)
        if route.stream_bytes is not None:
            return await _stream(request, route, headers)
        body = route.body
        if route.gzip:
            body = gzip_module.compress(body)
            headers["Content-Encoding"] = "gzip"
        if route.content_type:
            headers["Content-Type"] = route.content_type
        return web.Response(status=route.status, body=body, headers=headers)


def _not_modified(request: web.Request, route: Route) -> bool:
    inm = request.headers.get("If-None-Match")
    if route.etag and inm is not None:
        return route.etag in {tag.strip() for tag in inm.split(",")}
    ims = request.headers.get("If-Modified-Since")
    return bool(route.last_modified and ims == route.last_modified)


async def _stream(request: web.Request, route: Route, headers: dict[str, str]) -> web.StreamResponse:
    response = web.StreamResponse(status=route.status, headers=headers)
    if route.content_type:
        response.content_type = route.content_type.split(";")[0]
    response.enable_chunked_encoding()
    await response.prepare(request)
    chunk = (route.body or b"x") * (65536 // max(1, len(route.body or b"x")))
    remaining = route.stream_bytes or 0
    try:
        while remaining > 0:
            piece = chunk[:remaining]
            await response.write(piece)
            remaining -= len(piece)
        await response.write_eof()
    except (ConnectionResetError, ConnectionError):
        pass  # the client stopped reading: that is what a size cap does
    return response
