"""WebSub subscription requests: one form POST to a hub (`hub.mode=subscribe|unsubscribe`), answered in short.

The hub answers 202 Accepted and later verifies intent with a GET to the callback (the WebSub service
answers that); any other 2xx is taken as accepted too, anything else is refused with its status and the
first line of the hub's explanation. Redirects are not followed (the spec's hubs answer where they are
asked). The hub URL comes from a feed, so it is held to the fetcher's rule for private addresses: with
ALLOW_PRIVATE_FEEDS=false a public feed may not send the bot to a loopback or private hub.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from bot.adapters.fetcher import PrivateCheck, non_public_url

REASON_MAX = 160


@dataclass(frozen=True, slots=True)
class HubAnswer:
    accepted: bool
    status: int | None  # None when no HTTP answer came
    reason: str  # one line: "HTTP 202", or why it was refused


class HubClient:
    """Posts subscription requests over the fetcher's shared client (closed by its owner)."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        timeout: float = 20.0,
        allow_private: bool = True,
        private_check: PrivateCheck = non_public_url,
    ) -> None:
        self.client = client
        self.timeout = timeout
        self.allow_private = allow_private
        self.private_check = private_check

    async def request(self, hub: str, fields: Mapping[str, str], *, origin: str) -> HubAnswer:
        """POST `fields` to `hub` for the feed at `origin`."""
        if urlsplit(hub).scheme.lower() not in ("http", "https"):
            return HubAnswer(False, None, "the hub is not an http(s) URL")
        if not self.allow_private and await self.private_check(hub) and not await self.private_check(origin):
            host = urlsplit(hub).hostname
            return HubAnswer(False, None, f"hub at {host} refused: it is a private or local address")
        try:
            response = await self.client.post(hub, data=dict(fields), timeout=self.timeout)
        except httpx.TimeoutException:
            return HubAnswer(False, None, f"the hub did not answer within {self.timeout:g} s")
        except (httpx.HTTPError, httpx.InvalidURL, ssl.SSLError) as exc:
            detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            return HubAnswer(False, None, f"cannot reach the hub: {detail}"[:REASON_MAX])
        status = response.status_code
        if 200 <= status < 300:
            return HubAnswer(True, status, f"HTTP {status}")
        text = response.text.strip().splitlines()[0] if response.text.strip() else response.reason_phrase
        return HubAnswer(False, status, f"the hub answered HTTP {status}: {text}"[:REASON_MAX])
