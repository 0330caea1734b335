"""Connections to public addresses only: an httpcore network backend that resolves a host once, refuses it
when any of its addresses is loopback, private, link-local or otherwise non-public, and connects to an
address it checked.

This is what closes DNS rebinding for feeds added from chat: there is no second lookup between the check and
the connect for a hostile name server to answer differently. TLS still verifies the certificate and sends
SNI for the *name* (httpcore takes the server name from the URL's origin, not from the socket), and the Host
header is the request's own. The fetcher's pools (bot/adapters/host_pools.py) use this backend only for
requests marked `PUBLIC_ONLY`; a pooled connection is reused as usual, having been checked when it opened.
Which fetches are marked is the fetcher's decision (bot/adapters/fetcher.py).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable, Iterable

import httpcore

from bot.core.feed_address import UnsafeAddressError, blocked_ip, check_host_name

__all__ = ["PUBLIC_ONLY", "AddressRefused", "PublicOnlyBackend", "Resolve", "system_resolve"]

PUBLIC_ONLY = "newsbot.public_only"
"""The httpx request extension that sends a request through a `PublicOnlyBackend` pool."""

Resolve = Callable[[str, int], Awaitable[list[str]]]
"""A host name and port -> its addresses, in the order to try them."""

_SocketOption = tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]


class AddressRefused(httpcore.ConnectError):
    """The host is, or resolves to, a non-public address; nothing was connected to. One line."""


async def system_resolve(host: str, port: int) -> list[str]:
    """getaddrinfo on the event loop's executor: the host's TCP addresses, duplicates dropped."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class PublicOnlyBackend(httpcore.AsyncNetworkBackend):
    """Resolve, check every address, connect to the checked ones (first that answers)."""

    def __init__(
        self,
        resolve: Resolve = system_resolve,
        *,
        blocked: Callable[[str], bool] = blocked_ip,
        inner: httpcore.AsyncNetworkBackend | None = None,
        resolve_timeout: float = 5.0,
    ) -> None:
        self.resolve = resolve
        self.blocked = blocked
        self.inner = inner or httpcore.AnyIOBackend()
        self.resolve_timeout = resolve_timeout

    async def addresses(self, host: str, port: int) -> list[str]:
        """The checked addresses of `host`; AddressRefused when it is not public, ConnectError when it
        does not resolve."""
        name = host.strip("[]")
        if _is_ip(name):
            found = [name]
        else:
            try:
                check_host_name(name.lower().rstrip("."))
            except UnsafeAddressError:
                raise AddressRefused(f"connection to {name} refused: a local name") from None
            try:
                found = await asyncio.wait_for(self.resolve(name, port), self.resolve_timeout)
            except (OSError, TimeoutError) as exc:
                raise httpcore.ConnectError(f"cannot resolve {name}: {exc or 'timed out'}") from None
        if not found:
            raise httpcore.ConnectError(f"cannot resolve {name}: no addresses")
        bad = next((a for a in found if self.blocked(a)), None)
        if bad is not None:
            what = name if bad == name else f"{name} (it resolves to {bad})"
            raise AddressRefused(f"connection to {what} refused: a private or local address")
        return found

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[_SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        failure: httpcore.ConnectError | None = None
        for address in await self.addresses(host, port):
            try:
                return await self.inner.connect_tcp(
                    address, port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except httpcore.ConnectError as exc:
                failure = exc
        assert failure is not None
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        socket_options: Iterable[_SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise AddressRefused("connection to a unix socket refused: not a public address")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


def _is_ip(name: str) -> bool:
    try:
        socket.inet_pton(socket.AF_INET6 if ":" in name else socket.AF_INET, name.split("%", 1)[0])
    except OSError:
        return False
    return True
