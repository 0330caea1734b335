"""python-telegram-bot's HTTP transport on aiohttp instead of httpx.

Why: every reply is two Bot API calls (the getUpdates that brings the command, the sendMessage that
answers it), and on this machine httpx + httpcore + anyio cost about 1.6 ms of CPU per call in the bot's
event loop (py-spy on the chat benchmark), a third of a reply's whole budget. aiohttp, already the stand-in's
server and a dependency, does the same request in a fraction of that (bench: bare PTB round trip
measured with both transports side by side). PTB keeps everything else: its `BaseRequest` turns status
codes and payloads into TelegramError subclasses, retries and rate limits; this class only moves bytes.

Timeouts follow PTB's meaning: `connect` and `pool` bound getting a connection (aiohttp counts the wait
for a free pooled connection in its connect timeout), `read` bounds the response; aiohttp has no write
timeout, so the whole exchange is also bounded by their sum. Errors carry the exception class and
message, never the URL (it holds the bot token).
"""

from __future__ import annotations

import functools
import json
import ssl
import time
import urllib.request
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import certifi
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData


class AiohttpRequest(BaseRequest):
    """One aiohttp ClientSession with at most `pool_size` connections; PTB's four timeouts as defaults."""

    __slots__ = ("_connect", "_pool", "_pool_size", "_read", "_session", "_write", "last_answer", "throttled")

    def __init__(
        self,
        *,
        pool_size: int = 8,
        connect_timeout: float | None = 10.0,
        read_timeout: float | None = 15.0,
        write_timeout: float | None = 15.0,
        pool_timeout: float | None = 1.0,
    ) -> None:
        self._pool_size = pool_size
        self._connect, self._read, self._write, self._pool = (
            connect_timeout,
            read_timeout,
            write_timeout,
            pool_timeout,
        )
        self._session: aiohttp.ClientSession | None = None
        self.last_answer: float | None = None  # time.monotonic() of Telegram's last answer (for /healthz)
        self.throttled = 0  # 429 answers so far (for /metrics)

    @property
    def read_timeout(self) -> float | None:
        return self._read

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            # As PTB's httpx transport does: certifi's CA bundle (a slim container may have no system
            # store), and HTTP(S)_PROXY / NO_PROXY from the environment (see _proxy_for).
            tls = ssl.create_default_context(cafile=certifi.where())
            connector = aiohttp.TCPConnector(limit=self._pool_size, ttl_dns_cache=300, ssl=tls)
            self._session = aiohttp.ClientSession(
                connector=connector, headers={"User-Agent": self.USER_AGENT}
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(  # noqa: PLR0917  # PTB's BaseRequest signature
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        read = self._read if isinstance(read_timeout, DefaultValue) else read_timeout
        write = self._write if isinstance(write_timeout, DefaultValue) else write_timeout
        connect = self._connect if isinstance(connect_timeout, DefaultValue) else connect_timeout
        pool = self._pool if isinstance(pool_timeout, DefaultValue) else pool_timeout
        parts = [t for t in (connect, pool, write, read) if t is not None]
        timeout = aiohttp.ClientTimeout(
            total=sum(parts) if len(parts) == 4 else None,
            connect=None if connect is None or pool is None else connect + pool,
            sock_read=read,
        )
        try:
            async with self._session.request(
                method,
                url,
                data=_body(request_data),
                timeout=timeout,
                allow_redirects=False,
                proxy=_proxy_for(*_origin(url)),
            ) as response:
                body = await response.read()
                if response.status < 500:
                    self.last_answer = time.monotonic()
                if response.status == 429:
                    self.throttled += 1
                return response.status, body
        except TimeoutError as err:  # asyncio's (the same class on 3.11) and aiohttp's ServerTimeoutError
            raise TimedOut from err
        except aiohttp.ClientError as err:
            raise NetworkError(f"aiohttp.{type(err).__name__}: {_without_url(err)}") from err


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.hostname or ""


@functools.lru_cache(maxsize=64)
def _proxy_for(scheme: str, host: str) -> str | None:
    """The environment's proxy for this scheme and host, looked up once: aiohttp's `trust_env` does it
    (and reads ~/.netrc) on every request, which cost 2-3 ms a Bot API call here."""
    proxies = urllib.request.getproxies_environment()
    if not proxies or urllib.request.proxy_bypass(host):
        return None
    return proxies.get(scheme) or None


def _body(request_data: RequestData | None) -> Any:
    """PTB's parameters as one JSON body (Telegram takes application/json for every method but uploads),
    multipart when files go with them.

    JSON rather than the form PTB's HTTPXRequest sends: a form JSON-encodes each value and then
    percent-encodes it all, which cost ~2 ms for an inline answer of 20 results; one json.dumps costs
    a tenth of that.
    """
    if request_data is None:
        return None
    if not request_data.contains_files:
        parameters = request_data.parameters
        if not parameters:
            return None
        body = json.dumps(parameters, ensure_ascii=False, separators=(",", ":")).encode()
        return aiohttp.BytesPayload(body, content_type="application/json")
    form = aiohttp.FormData(quote_fields=False)
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, part in request_data.multipart_data.items():
        filename, content, *rest = part
        form.add_field(name, content, filename=filename, content_type=rest[0] if rest else None)
    return form


def _without_url(err: aiohttp.ClientError) -> str:
    """The error's message without any request URL (the path holds the bot token)."""
    if isinstance(err, aiohttp.ClientResponseError | aiohttp.InvalidURL):
        return type(err).__name__
    if isinstance(err, aiohttp.ClientConnectorError):
        return f"cannot connect to {err.host}:{err.port}: {err.os_error}"
    return str(err) or type(err).__name__


__all__ = ["AiohttpRequest"]
