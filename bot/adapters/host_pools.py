"""An httpx transport that keeps one small connection pool per origin, for the fetcher's shared client.

Why: httpcore scans every pooled connection on each request start and finish, so one big pool costs
CPU per request in proportion to its size (FEEDS.md measured 4–5 ms a request at 32 connections), while
a pool smaller than the number of hosts being read closes and reopens connections all the time. A pool
per origin, no bigger than the per-host limit, reuses every connection and keeps each scan short.

Pools share one TLS context (building one per pool would load the CA bundle each time). Idle pools are
closed once more than `max_origins` exist (article pages reach many hosts); a pool with a request in
flight is never closed.

A request marked with the `PUBLIC_ONLY` extension goes to a pool of its own (per origin) whose connections
are opened by `public_connect.PublicOnlyBackend`: resolved once, checked, connected to the checked address.
"""

from __future__ import annotations

import ssl
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpcore
import httpx

from bot.adapters.public_connect import PUBLIC_ONLY

_Origin = tuple[bytes, bytes, int | None, bool]


@dataclass
class _Pool:
    transport: httpx.AsyncHTTPTransport
    users: int = 0  # requests sent whose response body is not closed yet


class _ReleasingStream(httpx.AsyncByteStream):
    """The response body; closing it (as httpx always does) releases the pool for eviction."""

    def __init__(self, stream: httpx.AsyncByteStream, pool: _Pool) -> None:
        self._stream = stream
        self._pool: _Pool | None = pool

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            if self._pool is not None:
                self._pool.users -= 1
                self._pool = None


class HostPoolTransport(httpx.AsyncBaseTransport):
    """Routes each request to the connection pool of its (scheme, host, port)."""

    def __init__(
        self,
        *,
        per_host: int,
        max_origins: int = 256,
        keepalive_expiry: float = 30.0,
        public_backend: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self.per_host = per_host
        self.public_backend = public_backend
        self.max_origins = max_origins
        self.keepalive_expiry = keepalive_expiry
        self._tls: ssl.SSLContext = httpx.create_ssl_context()
        self._pools: OrderedDict[_Origin, _Pool] = OrderedDict()

    def origins(self) -> int:
        return len(self._pools)

    async def _pool_for(self, origin: _Origin) -> _Pool:
        pool = self._pools.get(origin)
        if pool is not None:
            self._pools.move_to_end(origin)
            return pool
        transport = httpx.AsyncHTTPTransport(
            verify=self._tls,
            trust_env=False,
            limits=httpx.Limits(
                max_connections=self.per_host,
                max_keepalive_connections=self.per_host,
                keepalive_expiry=self.keepalive_expiry,
            ),
        )
        if origin[3]:
            if self.public_backend is None:
                raise httpx.ConnectError("public-only requests need a PublicOnlyBackend")
            # httpx takes no network backend, so its httpcore pool is replaced by one that has ours.
            transport._pool = httpcore.AsyncConnectionPool(
                ssl_context=self._tls,
                max_connections=self.per_host,
                max_keepalive_connections=self.per_host,
                keepalive_expiry=self.keepalive_expiry,
                network_backend=self.public_backend,
            )
        pool = _Pool(transport)
        self._pools[origin] = pool
        if len(self._pools) > self.max_origins:
            await self._evict_idle()
        return pool

    async def _evict_idle(self) -> None:
        for origin, pool in list(self._pools.items()):
            if len(self._pools) <= self.max_origins:
                return
            if pool.users == 0:
                del self._pools[origin]
                await pool.transport.aclose()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        public = bool(request.extensions.get(PUBLIC_ONLY))
        origin = (request.url.raw_scheme, request.url.raw_host, request.url.port, public)
        pool = await self._pool_for(origin)
        pool.users += 1
        try:
            response = await pool.transport.handle_async_request(request)
        except BaseException:
            pool.users -= 1
            raise
        assert isinstance(response.stream, httpx.AsyncByteStream)
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_ReleasingStream(response.stream, pool),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        pools, self._pools = list(self._pools.values()), OrderedDict()
        for pool in pools:
            await pool.transport.aclose()
