"""Update pings: a site says "I changed"; if it is a feed we read, that feed is read now, once per 10 s.

What a ping body names is `bot/core/pings.py`'s (XML-RPC weblogUpdates, a form or JSON `url`); HTTP is
`bot/edges/http_pings.py`'s. This service decides: a URL matches an enabled feed when it is the feed's
own URL or its site's (compared by `ping_key`); each matched feed is handed to `fetch_soon` (the ingest
loop reads it at once, beside any running cycle) at most once per `coalesce` seconds, however many pings
arrive. A ping never adds a feed and never causes a fetch of a URL that is not configured: only
configured feeds are ever handed on, by id.

A flood (of pings for other sites, or repeats) is logged once a minute with a count, not once a ping.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import structlog

from bot.core.errors import NewsbotError
from bot.core.models import Feed
from bot.core.pings import ping_key
from bot.core.timeutil import utcnow
from bot.services.quiet_log import QuietLog

log = structlog.get_logger(__name__)

COALESCE_SECONDS = 10.0
INDEX_MAX_AGE = 30.0  # seconds the URL -> feeds index is trusted; a miss refreshes it sooner
INDEX_MIN_AGE = 2.0  # ...but no more often than this, so a flood of unknown URLs costs no queries


class PingFeeds(Protocol):
    async def all(self, *, enabled_only: bool = False) -> list[Feed]: ...
    async def mark_pinged(self, feed_ids: list[int], now: datetime) -> None: ...


@dataclass(frozen=True, slots=True)
class PingOutcome:
    feeds: tuple[int, ...]  # the configured feeds the ping names
    fetching: tuple[int, ...]  # those handed to ingest now (the rest were read less than 10 s ago)


class PingService:
    def __init__(
        self,
        feeds: PingFeeds,
        fetch_soon: Callable[[int], object],
        *,
        coalesce: float = COALESCE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._feeds = feeds
        self._fetch_soon = fetch_soon
        self._coalesce = coalesce
        self._clock = clock
        self._index: dict[str, set[int]] = {}
        self._indexed_at: float | None = None
        self._last_fetch: dict[int, float] = {}
        self.last_ping: dict[int, float] = {}  # feed id -> clock time of its last ping (for /feeds)
        self.quiet = QuietLog(clock, log)

    async def ping(self, urls: Sequence[str]) -> PingOutcome:
        """Hand each configured feed that `urls` name to ingest, unless it was handed on lately."""
        now = self._clock()
        keys = [key for key in map(ping_key, urls) if key]
        matched = await self._match(keys, now)
        fetching = []
        for feed_id in matched:
            self.last_ping[feed_id] = now
            last = self._last_fetch.get(feed_id)
            if last is not None and now - last < self._coalesce:
                continue
            self._last_fetch[feed_id] = now
            self._fetch_soon(feed_id)
            fetching.append(feed_id)
        if fetching:
            try:
                await self._feeds.mark_pinged(fetching, utcnow())
            except NewsbotError as exc:  # only /feeds' "pinged" word depends on it
                log.warning("ping_not_recorded", feeds=fetching, error=str(exc))
        if not matched:
            self.quiet.warning("ping_ignored", reason="no configured feed matches", url=urls[0][:200])
        elif fetching:
            log.info("ping_fetching", feeds=fetching, url=urls[0][:200])
        else:
            self.quiet.warning("ping_coalesced", feeds=list(matched))
        return PingOutcome(tuple(matched), tuple(fetching))

    async def _match(self, keys: list[str], now: float) -> list[int]:
        age = None if self._indexed_at is None else now - self._indexed_at
        found = self._lookup(keys)
        if age is None or age > INDEX_MAX_AGE or (not found and age > INDEX_MIN_AGE):
            await self._refresh(now)
            found = self._lookup(keys)
        return found

    def _lookup(self, keys: list[str]) -> list[int]:
        return sorted({feed_id for key in keys for feed_id in self._index.get(key, ())})

    async def _refresh(self, now: float) -> None:
        index: dict[str, set[int]] = {}
        for feed in await self._feeds.all(enabled_only=True):
            for url in (feed.url, feed.site_url):
                if url and (key := ping_key(url)):
                    index.setdefault(key, set()).add(feed.id)
        self._index, self._indexed_at = index, now
