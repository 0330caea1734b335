"""The ingest cycle: read every due feed, store new and changed articles, record each feed's fetch state.

Per feed: fetch (no transaction open) → parse in the pool → fill missing deks → `ArticleRepo.store` (one
short transaction that also queues posts) → a `FetchOutcome`, written in batches so a warm cycle of a
thousand 304s is a handful of transactions. Feeds run concurrently and independently: each failure is
caught, stored as the feed's `last_error` and turned into backoff; one slow feed never holds up another
feed's articles. What a read leaves behind (next read, pace, hub) is `bot/core/outcome.py`'s, reading a
feed is `feed_reader.py`'s; storage is seen through the Protocols in `ingest_ports.py` (`FetchOutcome`
and `DuplicateFeedError` are the feed repository's plain value and error types). Each full read also
stores the WebSub hub the feed advertises (the WebSub service subscribes, told through
`on_feeds_changed`); a pushed feed is read only every MAX_POLL_INTERVAL_SECONDS, and bodies its hub
pushes are `push_ingest.py`'s. `fetch_soon` reads one feed now, beside any running cycle (a ping's).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog

from bot.core.digest import FeedDigest
from bot.core.errors import FeedParseError, FetchError, NewsbotError
from bot.core.fetching import FetchResult, ThrottledError
from bot.core.models import Feed, FetchOutcome
from bot.core.outcome import failed_outcome, read_outcome
from bot.core.pace import PollBudget
from bot.core.policy import PostPolicy
from bot.core.schedule import seconds_until
from bot.core.timeutil import utcnow
from bot.core.topics import TopicMatcher
from bot.services.feed_catalog import FeedCatalog
from bot.services.feed_reader import FeedReader, Preview
from bot.services.ingest_ports import (
    ArticleStore,
    CycleSummary,
    FeedStore,
    IngestConfig,
    SeedMemory,
    TopicSource,
)

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class _FeedResult:
    outcome: FetchOutcome
    status: str  # "304", "200", "failed"
    new: int = 0
    updated: int = 0


class IngestService:
    def __init__(
        self,
        *,
        feeds: FeedStore,
        articles: ArticleStore,
        topics: TopicSource,
        seeds: SeedMemory,
        reader: FeedReader,
        policy: PostPolicy,
        config: IngestConfig,
    ) -> None:
        self.feeds = feeds
        self.articles = articles
        self.topics = topics
        self.reader = reader
        self.policy = policy
        self.config = config
        self.catalog = FeedCatalog(feeds, seeds, reader, config.configured_feeds)
        self.on_queued: list[Callable[[], object]] = []  # woken when posts or DMs were queued
        self.on_wake: list[Callable[[], object]] = []  # told of `wake` (a loop running elsewhere)
        self.on_fetch: list[Callable[[int], object]] = []  # told of `fetch_soon` (likewise)
        # told once it is stored that a feed's WebSub hub changed, or a feed was disabled or removed
        self.on_feeds_changed: list[Callable[[], object]] = []
        self.on_cycle: list[Callable[[CycleSummary], object]] = []  # after each loop cycle (metrics, health)
        self._feeds_changed: set[int] = set()  # ...noticed, not yet stored
        self._wake = asyncio.Event()
        self._serving = False  # True while `loop` runs here: `fetch_soon` then reads the feed itself
        self._in_flight: dict[int, asyncio.Event] = {}  # feed id -> set when its current read ends
        self._reads: dict[int, asyncio.Task[None]] = {}  # feed id -> its `fetch_soon` read
        self._budget: PollBudget | None = None  # the adaptive schedule's ledger, during a cycle

    # -- the cycle --------------------------------------------------------------------------------------

    async def run_cycle(self, now: datetime | None = None, *, only_due: bool = True) -> CycleSummary:
        """Read due feeds (or, with `only_due=False`, every enabled feed) once; never raises for one feed."""
        started = time.perf_counter()
        now = now or utcnow()
        feeds = await self.feeds.due(now) if only_due else await self.feeds.all(enabled_only=True)
        matchers = await self.topics.matchers() if feeds else []
        if feeds and self.config.schedule.adaptive:  # every enabled feed's interval, for the budget
            self._budget = PollBudget(self.config.schedule, await self.feeds.all(enabled_only=True), now)
        queue = iter(feeds)  # shared by the workers: each takes the next feed when it is free
        pending: list[FetchOutcome] = []
        results: list[_FeedResult] = []

        async def worker() -> None:
            for feed in queue:
                result = await self._tracked(feed, now, matchers)
                results.append(result)
                pending.append(result.outcome)
                if len(pending) >= self.config.flush_every:
                    await self._record(pending)

        try:
            await asyncio.gather(*(worker() for _ in range(min(self.config.in_flight, len(feeds)))))
        finally:
            self._budget = None
            await self._record(pending)
        summary = CycleSummary(
            feeds_fetched=len(feeds),
            not_modified=sum(r.status == "304" for r in results),
            failed=sum(r.status == "failed" for r in results),
            new_articles=sum(r.new for r in results),
            updated_articles=sum(r.updated for r in results),
            seconds=time.perf_counter() - started,
        )
        if feeds:
            log.info(
                "ingest_cycle",
                feeds=summary.feeds_fetched,
                not_modified=summary.not_modified,
                failed=summary.failed,
                new=summary.new_articles,
                updated=summary.updated_articles,
                seconds=round(summary.seconds, 3),
            )
        return summary

    async def _record(self, pending: list[FetchOutcome]) -> None:
        """Write and clear the pending outcomes; a storage error is logged (the feeds are simply fetched
        again next cycle, without validators), never allowed to abandon the other feeds."""
        if not pending:
            return
        batch = pending[:]
        pending.clear()
        try:
            await self.feeds.record_outcomes(batch)
        except NewsbotError as exc:
            log.error("fetch_outcomes_not_recorded", feeds=len(batch), error=str(exc))
            return
        if self._feeds_changed & {o.feed_id for o in batch}:
            self._feeds_changed -= {o.feed_id for o in batch}
            for callback in self.on_feeds_changed:
                callback()

    async def _tracked(self, feed: Feed, now: datetime, matchers: Sequence[TopicMatcher]) -> _FeedResult:
        """`_ingest_feed`, marked in flight so a `fetch_soon` of the same feed waits for it to end."""
        done = self._in_flight[feed.id] = asyncio.Event()
        try:
            return await self._ingest_feed(feed, now, matchers)
        finally:
            done.set()
            if self._in_flight.get(feed.id) is done:
                del self._in_flight[feed.id]

    async def _ingest_feed(self, feed: Feed, now: datetime, matchers: Sequence[TopicMatcher]) -> _FeedResult:
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.config.feed_timeout):
                fetched = await self.reader.fetcher.fetch(
                    feed.url, etag=feed.etag, last_modified=feed.last_modified
                )
                if fetched.not_modified:
                    log.debug("feed_fetched", feed_id=feed.id, status=304, ms=_ms(started))
                    return _FeedResult(self._succeeded(feed, now, fetched, None), "304")
                digest = await self.reader.digest(fetched, now=now, fallback_source=feed.title)
                if digest.kind != "feed":
                    return await self._html_instead(feed, now, fetched, digest, started)
                articles = await self.reader.fill_deks(feed.id, digest.articles, origin=feed.url)
            stored = await self.articles.store(
                feed.id,
                articles,
                now=now,
                first_sync=not feed.synced,
                policy=self.policy,
                channel_id=self.config.channel_id,
                matchers=matchers,
            )
        except ThrottledError as exc:
            return self._failed(feed, now, exc.reason, started, retry_after=exc.retry_after)
        except (FetchError, FeedParseError) as exc:
            return self._failed(feed, now, exc.reason, started, disable=getattr(exc, "permanent", False))
        except TimeoutError:
            return self._failed(feed, now, f"gave up after {self.config.feed_timeout:g} s", started)
        except Exception as exc:  # a bug or a storage failure must cost one feed, never the cycle
            log.exception("feed_ingest_crashed", feed_id=feed.id, error=repr(exc))
            return self._failed(feed, now, f"internal error: {type(exc).__name__}", started)
        if stored.queued or stored.dms_queued:
            for notify in self.on_queued:
                notify()
        log.info(
            "feed_fetched",
            feed_id=feed.id,
            status=fetched.status,
            ms=_ms(started),
            entries=len(articles),
            new=stored.new,
            updated=stored.updated,
            queued=stored.queued,
        )
        outcome = self._succeeded(feed, now, fetched, digest, new=stored.new)
        return _FeedResult(outcome, "200", new=stored.new, updated=stored.updated)

    def _succeeded(
        self, feed: Feed, now: datetime, fetched: FetchResult, digest: FeedDigest | None, *, new: int = 0
    ) -> FetchOutcome:
        schedule, budget = self.config.schedule, self._budget
        outcome, hub_changed = read_outcome(
            feed, now, fetched, digest, schedule=schedule, budget=budget, new=new
        )
        if hub_changed:  # the WebSub service subscribes (or unsubscribes) once this is stored
            self._feeds_changed.add(feed.id)
        return outcome

    def _failed(
        self,
        feed: Feed,
        now: datetime,
        reason: str,
        started: float,
        *,
        retry_after: float | None = None,
        disable: bool = False,
        new_url: str | None = None,
    ) -> _FeedResult:
        outcome = failed_outcome(
            feed, now, reason, self.config.schedule, retry_after=retry_after, disable=disable, new_url=new_url
        )
        if disable and feed.websub_hub:  # its subscription goes too
            self._feeds_changed.add(feed.id)
        log.warning(
            "feed_failed",
            feed_id=feed.id,
            url=feed.url,
            error=outcome.error,
            failures=feed.error_count + 1,
            ms=_ms(started),
        )
        return _FeedResult(outcome, "failed")

    async def _html_instead(
        self, feed: Feed, now: datetime, fetched: FetchResult, digest: FeedDigest, started: float
    ) -> _FeedResult:
        """A feed URL answered with a web page. Before the first sync (FEEDS may name a home page) the
        feed the page links replaces the URL, to be read at once; later, it is an error like any other."""
        found = digest.feed_links[0] if digest.feed_links else None
        if feed.synced or found is None:
            return self._failed(feed, now, f"not a feed: an HTML page ({fetched.final_url})", started)
        if (twin := await self.feeds.by_url(found)) is not None:
            return self._failed(feed, now, f"an HTML page whose feed is already feed {twin.id}", started)
        return self._failed(
            feed, now, f"an HTML page; using the feed it links: {found}", started, new_url=found
        )

    # -- feeds (the catalog's; here too because admins reach them through `runtime.ingest`) -------------

    async def add_feed(self, url: str) -> Feed:
        feed = await self.catalog.add_feed(url)
        self.wake()
        return feed

    async def remove_feed(self, id_or_url: int | str) -> Feed | None:
        removed = await self.catalog.remove_feed(id_or_url)
        if removed is not None and removed.websub_hub:  # its WebSub subscription goes too
            for callback in self.on_feeds_changed:
                callback()
        return removed

    async def preview(self, url: str, now: datetime | None = None) -> Preview:
        return await self.catalog.preview(url, self.config.template, now)

    # -- the loop ---------------------------------------------------------------------------------------

    def wake(self) -> None:
        """Run a cycle soon (a feed was added)."""
        self._wake.set()
        for callback in self.on_wake:
            callback()

    def fetch_soon(self, feed_id: int) -> None:
        """Read this feed now, beside any running cycle (a ping or a push said it changed). A read of it
        already in flight is waited for first (it may have fetched the feed before the change); a second
        request while one is pending is the same request."""
        for callback in self.on_fetch:
            callback(feed_id)
        if not self._serving:
            return
        pending = self._reads.get(feed_id)
        if pending is not None and not pending.done():
            return
        self._reads[feed_id] = asyncio.create_task(self._read_now(feed_id), name=f"fetch_soon:{feed_id}")

    async def _read_now(self, feed_id: int) -> None:
        try:
            if (running := self._in_flight.get(feed_id)) is not None:
                await running.wait()
            feed = await self.feeds.get(feed_id)
            if feed is None or not feed.enabled:
                return
            matchers = await self.topics.matchers()
            result = await self._tracked(feed, utcnow(), matchers)
            await self._record([result.outcome])
        except NewsbotError as exc:
            log.error("fetch_soon_failed", feed_id=feed_id, error=str(exc))
        except Exception as exc:  # nothing here may stop the loop
            log.exception("fetch_soon_failed", feed_id=feed_id, error=repr(exc))
        finally:
            self._reads.pop(feed_id, None)

    async def loop(self, bot: Any, stop: asyncio.Event) -> None:
        """Run cycles until `stop`: sleep until the next feed is due (at most the poll interval)."""
        await self.catalog.ensure_configured_feeds()
        self._serving = True
        try:
            await self._cycles(stop)
        finally:
            self._serving = False
            reads = list(self._reads.values())
            for read in reads:
                read.cancel()
            await asyncio.gather(*reads, return_exceptions=True)

    async def _cycles(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self._wake.clear()  # a feed added while the cycle runs wakes the next sleep at once
            cycle = asyncio.create_task(self._guarded_cycle())
            stopping = asyncio.create_task(stop.wait())
            try:
                await asyncio.wait({cycle, stopping}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                stopping.cancel()
            if not cycle.done():
                cycle.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await cycle
                return
            await self._sleep(stop)

    async def _guarded_cycle(self) -> None:
        try:
            summary = await self.run_cycle()
            for callback in self.on_cycle:
                callback(summary)
        except NewsbotError as exc:
            log.error("ingest_cycle_failed", error=str(exc))
        except Exception as exc:  # nothing in a service loop may stop the bot
            log.exception("ingest_cycle_failed", error=repr(exc))

    async def _sleep(self, stop: asyncio.Event) -> None:
        try:
            next_due = await self.feeds.next_due_at()
        except NewsbotError as exc:
            log.error("next_due_failed", error=str(exc))
            next_due = None
        delay = seconds_until(next_due, utcnow(), self.config.poll_interval)
        waiters = {asyncio.create_task(stop.wait()), asyncio.create_task(self._wake.wait())}
        try:
            await asyncio.wait(waiters, timeout=delay, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
