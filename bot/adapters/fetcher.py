"""Polite HTTP GETs of feeds and article pages over one shared httpx.AsyncClient; parsing is left to others.

Conditional requests (ETag / Last-Modified), gzip/deflate (httpx's decoders), connect/read timeouts from
httpx plus a total deadline from `asyncio.timeout`, a streamed size cap on the *decoded* body (so a gzip
bomb stops early), at most five redirects followed by hand (loops detected, and whether every hop was
permanent recorded so the stored URL can move), only http/https, and concurrency bounded overall and per
host. Every failure is a `FetchError` whose reason is one short line.

Private addresses: with `allow_private=False` (ALLOW_PRIVATE_FEEDS=false), every connection a fetch opens
(redirects included) must go to a public address, checked on the address actually connected to
(bot/adapters/public_connect.py: resolved once, checked, connected to; no DNS rebinding window), unless
the fetch starts from a trusted URL: one that itself names a non-public place (a private IP, a local name;
bot/core/feed_address.py) or whose host is in `trusted_hosts` (the operator's FEEDS). A fetch made on
behalf of another page (`origin=`, autodiscovery, article pages) starts from that page. So a private feed
the operator wrote down keeps working, redirects included, while a feed added from chat whose name later
resolves to 127.0.0.1 is refused with one line.

The result and error types live in `bot/core/fetching.py`, so services need not import httpx. The
client's connections are pooled per origin by `host_pools.HostPoolTransport` (CPU per request, FEEDS.md).
"""

from __future__ import annotations

import asyncio
import importlib
import ipaddress
import socket
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

import httpx

from bot.adapters.fetch_limits import HostLimiter
from bot.adapters.host_pools import HostPoolTransport
from bot.adapters.public_connect import (
    PUBLIC_ONLY,
    AddressRefused,
    PublicOnlyBackend,
    Resolve,
    system_resolve,
)
from bot.core.errors import FetchError
from bot.core.feed_address import (
    UnsafeAddressError,
    blocked_ip,
    check_host_name,
    feed_host,
    names_private_place,
)
from bot.core.fetching import FEED_ACCEPT, MAX_REDIRECTS, USER_AGENT, FetchResult, ThrottledError
from bot.core.schedule import parse_max_age, parse_retry_after
from bot.core.timeutil import utcnow

if TYPE_CHECKING:
    from bot.settings import Settings

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_PERMANENT = frozenset({301, 308})
# httpcore imports its anyio backend, and anyio its asyncio backend, on the first request: about 70 ms
# of imports that would stall the event loop then. Import them with this module, before the loop runs.
for _backend in ("anyio._backends._asyncio", "httpcore._backends.anyio"):
    importlib.import_module(_backend)
_DRAIN_MAX = 64 * 1024
_RESOLVE_TIMEOUT = 5.0

PrivateCheck = Callable[[str], Awaitable[bool]]
"""Whether a URL's host is, or resolves to, a non-public address."""


async def non_public_url(url: str) -> bool:
    """True when the URL's host is a local name, a non-public IP, resolves to one, or does not resolve."""
    try:
        host, port = feed_host(url)
        check_host_name(host)
    except UnsafeAddressError:
        return True
    literal = host.strip("[]").split("%", 1)[0]
    try:
        ipaddress.ip_address(literal)
    except ValueError:
        pass
    else:
        return False  # an IP literal check_host_name let through is public
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(
            loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), timeout=_RESOLVE_TIMEOUT
        )
    except (OSError, TimeoutError):
        return True
    return not infos or any(blocked_ip(str(info[4][0])) for info in infos)


@dataclass(frozen=True, slots=True)
class _Call:
    """One `fetch` call's fixed parameters, shared by its redirect hops."""

    url: str
    headers: dict[str, str]
    truncate: bool
    cap: int
    started: float
    origin: str | None = None  # the page this fetch was made for (autodiscovery); see the module doc
    public_only: bool = False  # every connection checked at connect time (module doc)


def _mib(size: int) -> str:
    return f"{size / 1048576:g} MiB" if size >= 1048576 else f"{size // 1024} KiB"


def _seconds(value: float) -> str:
    return f"{value:g} s"


def make_client(
    *,
    timeout: float,
    per_host: int,
    max_origins: int = 256,
    resolve: Resolve = system_resolve,
    blocked: Callable[[str], bool] = blocked_ip,
) -> httpx.AsyncClient:
    """The one shared client: redirects followed by hand, one small pool per origin (see host_pools);
    public-only requests connect through `resolve` and the `blocked` rule (injectable for tests)."""
    backend = PublicOnlyBackend(resolve, blocked=blocked, resolve_timeout=_RESOLVE_TIMEOUT)
    return httpx.AsyncClient(
        transport=HostPoolTransport(per_host=per_host, max_origins=max_origins, public_backend=backend),
        headers={"User-Agent": USER_AGENT},
        timeout=httpx.Timeout(timeout, connect=min(10.0, timeout), pool=None),
        follow_redirects=False,
        trust_env=False,  # no proxy or .netrc surprises from the environment
    )


class Fetcher:
    """GETs with the limits above. Construct once; `client` is owned (and closed) by the runtime."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        timeout: float = 20.0,
        max_bytes: int = 5 * 1024 * 1024,
        concurrency: int = 16,
        per_host: int = 4,
        allow_private: bool = True,
        trusted_hosts: frozenset[str] = frozenset(),
    ) -> None:
        self.client = client
        self.allow_private = allow_private
        self.trusted_hosts = trusted_hosts
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.limiter = HostLimiter(concurrency, per_host)

    @classmethod
    def from_settings(cls, settings: Settings) -> Fetcher:
        """A fetcher over a new shared client; whoever calls this closes it with `aclose()`."""
        timeout = settings.fetch_timeout_seconds
        return cls(
            make_client(timeout=timeout, per_host=settings.per_host_concurrency),
            timeout=timeout,
            max_bytes=settings.max_feed_bytes,
            concurrency=settings.fetch_concurrency,
            per_host=settings.per_host_concurrency,
            allow_private=settings.allow_private_feeds,
            trusted_hosts=frozenset(h for h in (_host(u) for u in settings.feeds) if h),
        )

    async def aclose(self) -> None:
        await self.client.aclose()

    async def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: str = FEED_ACCEPT,
        truncate: bool = False,
        max_bytes: int | None = None,
        origin: str | None = None,
    ) -> FetchResult:
        """GET `url` (conditionally when validators are given). `max_bytes` lowers the size cap for this
        call; with `truncate`, a body over the cap is cut at the cap instead of failing: right for HTML
        pages whose metadata sits at the top. `origin` is the page that led to `url` (autodiscovery): it
        is then held to the redirect rule for private addresses (module doc)."""
        headers = {"Accept": accept}
        if etag and _sendable(etag):
            headers["If-None-Match"] = etag
        if last_modified and _sendable(last_modified):
            headers["If-Modified-Since"] = last_modified
        _check_scheme(url, url)
        # The host slot is held for the whole fetch, redirects included, and the deadline starts once it
        # is ours: time spent queueing behind other feeds of the same host is not this feed's fault.
        async with self.limiter.slot(url):
            cap = min(max_bytes or self.max_bytes, self.max_bytes)
            public_only = not self.allow_private and not self.trusted(origin or url)
            call = _Call(url, headers, truncate, cap, asyncio.get_running_loop().time(), origin, public_only)
            try:
                async with asyncio.timeout(self.timeout):
                    return await self._follow(call)
            except TimeoutError:
                raise FetchError(url, f"timed out after {_seconds(self.timeout)}") from None

    def trusted(self, url: str) -> bool:
        """A fetch starting from `url` may connect to private addresses (module doc)."""
        return names_private_place(url) or _host(url) in self.trusted_hosts

    async def _follow(self, call: _Call) -> FetchResult:
        url = current = call.url
        seen = {url}
        permanent = True
        for _hop in range(MAX_REDIRECTS + 1):
            _check_scheme(url, current)
            result = await self._get_once(call, current, permanent)
            if isinstance(result, FetchResult):
                return result
            status, location = result
            permanent = permanent and status in _PERMANENT
            current = urljoin(current, location)
            if current in seen:
                raise FetchError(url, f"redirect loop at {current}", status=status)
            seen.add(current)
        raise FetchError(url, f"too many redirects (more than {MAX_REDIRECTS})")

    async def _get_once(self, call: _Call, current: str, permanent: bool) -> FetchResult | tuple[int, str]:
        """One request: a result, or (status, Location) of a redirect to follow."""
        url = call.url
        try:
            checked = {PUBLIC_ONLY: True} if call.public_only else None
            stream = self.client.stream("GET", current, headers=call.headers, extensions=checked)
            async with stream as response:
                status = response.status_code
                if status in _REDIRECTS:
                    location = response.headers.get("Location")
                    if not location:
                        raise FetchError(url, f"HTTP {status} without a Location header", status=status)
                    await _drain(response)
                    return status, location
                _check_status(url, response)
                body, cut = b"", False
                if status == 304:
                    await _drain(response)
                else:
                    body, cut = await _read_capped(url, response, call.cap, truncate=call.truncate)
                loop = asyncio.get_running_loop()
                return FetchResult(
                    url=url,
                    final_url=current,
                    status=status,
                    body=body,
                    etag=response.headers.get("ETag"),
                    last_modified=response.headers.get("Last-Modified"),
                    content_type=response.headers.get("Content-Type"),
                    permanent_redirect=permanent and current != url,
                    max_age=parse_max_age(response.headers.get("Cache-Control")),
                    elapsed_ms=int((loop.time() - call.started) * 1000),
                    truncated=cut,
                    link=response.headers.get("Link"),
                )
        except httpx.ConnectTimeout as exc:
            raise FetchError(url, f"timed out connecting to {urlsplit(current).hostname}") from exc
        except httpx.TimeoutException as exc:
            raise FetchError(url, f"timed out after {_seconds(self.timeout)}") from exc
        except httpx.TooManyRedirects as exc:  # not raised with follow_redirects=False; kept for safety
            raise FetchError(url, "too many redirects") from exc
        except httpx.DecodingError as exc:
            raise FetchError(url, "response body could not be decompressed") from exc
        except httpx.HTTPError as exc:
            if isinstance(exc.__cause__, AddressRefused):
                raise FetchError(url, str(exc.__cause__)) from exc
            raise FetchError(url, _network_reason(exc)) from exc
        except httpx.InvalidURL as exc:
            raise FetchError(url, f"invalid URL: {exc}") from exc
        except ssl.SSLError as exc:
            raise FetchError(url, f"TLS error: {exc.reason or exc}") from exc


async def _drain(response: httpx.Response) -> None:
    """Read a small bodyless answer (304, redirect) to its end, so httpcore keeps the connection for the
    next request instead of closing it; anything longer than `_DRAIN_MAX` is abandoned with the socket."""
    seen = 0
    async for chunk in response.aiter_raw():
        seen += len(chunk)
        if seen > _DRAIN_MAX:
            return


async def _read_capped(url: str, response: httpx.Response, cap: int, *, truncate: bool) -> tuple[bytes, bool]:
    """The decoded body, failing (or, with `truncate`, stopping) once it grows past `cap` bytes."""
    declared = response.headers.get("Content-Length", "")
    if not truncate and declared.isdigit() and int(declared) > cap:
        raise FetchError(url, f"response larger than {_mib(cap)}", status=response.status_code)
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > cap:
            if truncate:
                chunks.append(chunk[: len(chunk) - (size - cap)])
                return b"".join(chunks), True
            raise FetchError(url, f"response larger than {_mib(cap)}", status=response.status_code)
        chunks.append(chunk)
    return b"".join(chunks), False


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").rstrip(".").lower()
    except ValueError:
        return ""


def _sendable(value: str) -> bool:
    """A stored validator can be sent back only as printable ASCII on one line."""
    return value.isascii() and value.isprintable()


def _check_scheme(url: str, current: str) -> None:
    scheme = urlsplit(current).scheme.lower()
    if not scheme and current == url:
        raise FetchError(url, "not an http(s) URL")
    if scheme not in ("http", "https"):
        what = "redirect to" if current != url else "URL scheme"
        raise FetchError(url, f"{what} {scheme or 'no scheme'}:// is not allowed (only http and https)")
    if not urlsplit(current).hostname:
        raise FetchError(url, "URL has no host")


def _check_status(url: str, response: httpx.Response) -> None:
    status = response.status_code
    if status in (200, 304) or 200 <= status < 300:
        return
    if status in (429, 503):
        retry_after = parse_retry_after(response.headers.get("Retry-After"), utcnow())
        hint = f", retry after {retry_after:g} s" if retry_after is not None else ""
        raise ThrottledError(url, f"HTTP {status}{hint}", status=status, retry_after=retry_after)
    if status == 410:
        raise FetchError(url, "HTTP 410 Gone: the feed was removed", status=status, permanent=True)
    reason = response.reason_phrase
    raise FetchError(url, f"HTTP {status} {reason}".rstrip(), status=status)


def _network_reason(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.ConnectError):
        detail = str(exc) or "connection failed"
        return f"cannot connect: {detail.splitlines()[0]}"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"server broke the HTTP protocol: {str(exc).splitlines()[0] if str(exc) else 'no detail'}"
    if isinstance(exc, httpx.UnsupportedProtocol):
        return "unsupported URL"
    if isinstance(exc, httpx.InvalidURL):
        return "invalid URL"
    detail = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {detail}".rstrip(": ")
