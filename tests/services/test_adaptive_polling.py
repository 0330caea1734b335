"""Adaptive polling over real HTTP into a real SQLite file: a busy feed is read sooner than a quiet one after
a real ingest cycle, within the fixed schedule's request budget, with backoff and server floors on top."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from bot.adapters.parse_pool import ParsePool
from bot.core.models import Feed
from bot.core.schedule import Schedule
from tests.kits.feedserver import FeedServer
from tests.kits.ingestkit import NOW, Stack, make_stack, parse_pool

__all__ = ["parse_pool"]  # the module-scoped fixture, used by name

P = 120.0
ADAPTIVE = Schedule(
    interval=timedelta(seconds=P),
    mode="adaptive",
    min_interval=timedelta(seconds=60),
    max_interval=timedelta(hours=1),
)


def rss(name: str, dates: list[datetime | None]) -> str:
    """An RSS 2.0 feed with one item per date (None: an item without pubDate)."""
    items = []
    for n, date in enumerate(dates):
        pub = f"<pubDate>{format_datetime(date)}</pubDate>" if date else ""
        items.append(
            f"<item><title>{name} story {n}</title><link>https://{name}.example/{n}</link>"
            f"<description>About {name} {n}.</description>{pub}</item>"
        )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>{name}</title>'
        f"<link>https://{name}.example/</link>{''.join(items)}</channel></rss>"
    )


def every(seconds: float, newest_ago: float, count: int = 20) -> list[datetime | None]:
    return [NOW - timedelta(seconds=newest_ago + i * seconds) for i in range(count)]


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    async with FeedServer() as srv:
        yield srv


@pytest.fixture
async def stack(tmp_path: Path, parse_pool: ParsePool) -> AsyncIterator[Stack]:
    st = await make_stack(tmp_path, parse_pool, interval=P, schedule=ADAPTIVE)
    try:
        yield st
    finally:
        await st.close()


async def three_feeds(server: FeedServer, stack: Stack) -> tuple[Feed, Feed, Feed]:
    server.route("/busy.xml", rss("busy", every(300, newest_ago=120)), etag='"b1"')  # every 5 min
    server.route("/quiet.xml", rss("quiet", every(2 * 86_400, newest_ago=86_400)), etag='"q1"')  # 2 days
    server.route("/undated.xml", rss("undated", [None] * 5), etag='"u1"')
    busy = await stack.add(server.url("/busy.xml"))
    quiet = await stack.add(server.url("/quiet.xml"))
    undated = await stack.add(server.url("/undated.xml"))
    return busy, quiet, undated


async def within_budget(stack: Stack) -> None:
    feeds = await stack.feeds.all(enabled_only=True)
    spent = sum(1 / (f.poll_interval or P) for f in feeds)
    assert spent <= len(feeds) / P * (1 + 1e-9)


async def test_busy_feed_is_read_sooner_than_a_quiet_one(server: FeedServer, stack: Stack) -> None:
    busy, quiet, undated = await three_feeds(server, stack)
    summary = await stack.ingest.run_cycle(NOW)
    assert (summary.feeds_fetched, summary.failed) == (3, 0)
    busy, quiet, undated = [await stack.feed(f.id) for f in (busy, quiet, undated)]
    # the pace comes from the entries' dates on the very first read
    assert busy.pace.gap == pytest.approx(300)
    assert quiet.pace.gap == pytest.approx(2 * 86_400)
    assert undated.pace.gap is None
    assert busy.next_fetch_at is not None
    assert quiet.next_fetch_at is not None
    assert busy.next_fetch_at < quiet.next_fetch_at
    assert quiet.poll_interval == 3600  # MAX
    assert quiet.next_fetch_at >= NOW + timedelta(seconds=3240)
    assert undated.poll_interval == P  # no dates: POLL_INTERVAL_SECONDS
    assert busy.poll_interval is not None
    assert busy.poll_interval <= P * (1 + 1e-9)  # the quiet feed had not yet left its share
    await within_budget(stack)

    # the busy feed publishes again; when it is next read, the quiet feed's unused reads are its own
    server.route("/busy.xml", rss("busy", [NOW, *every(300, newest_ago=120)]), etag='"b2"')
    later = busy.next_fetch_at
    summary = await stack.ingest.run_cycle(later)
    assert summary.new_articles == 1
    busy = await stack.feed(busy.id)
    assert busy.poll_interval == pytest.approx(1 / (3 / P - 1 / P - 1 / 3600))  # 61 s: what the others leave
    assert busy.pace.last == later.replace(microsecond=0)  # counted as it arrived
    assert busy.pace.gap is not None
    assert busy.pace.gap < 300
    assert busy.next_fetch_at is not None
    assert busy.next_fetch_at - later <= timedelta(seconds=68)
    await within_budget(stack)
    assert len(server.requests_to("/quiet.xml")) == 1


async def test_backoff_and_cache_control_apply_on_top(server: FeedServer, stack: Stack) -> None:
    busy, _, _ = await three_feeds(server, stack)
    await stack.ingest.run_cycle(NOW)
    busy = await stack.feed(busy.id)
    await stack.ingest.run_cycle(busy.next_fetch_at)  # a 304: the busy feed gets its 61 s
    busy = await stack.feed(busy.id)
    assert busy.poll_interval is not None
    assert busy.poll_interval < 62
    interval = busy.poll_interval
    # a failure backs off from the feed's own interval, and keeps it
    server.route("/busy.xml", "down", status=503)
    at = busy.next_fetch_at
    assert at is not None
    await stack.ingest.run_cycle(at)
    busy = await stack.feed(busy.id)
    assert busy.error_count == 1
    assert busy.poll_interval == interval
    assert busy.next_fetch_at is not None
    assert (
        2 * interval * 0.9 - 1 <= (busy.next_fetch_at - at).total_seconds() <= 2 * interval * 1.1
    )  # whole s
    # a server's max-age is a floor on the wait
    server.route("/busy.xml", rss("busy", every(300, newest_ago=0)), headers={"Cache-Control": "max-age=900"})
    at = busy.next_fetch_at
    await stack.ingest.run_cycle(at)
    busy = await stack.feed(busy.id)
    assert busy.error_count == 0
    assert busy.next_fetch_at == at.replace(microsecond=0) + timedelta(seconds=900)


async def test_fixed_schedule_reads_every_feed_at_the_poll_interval(
    server: FeedServer, tmp_path: Path, parse_pool: ParsePool
) -> None:
    fixed = await make_stack(tmp_path, parse_pool, interval=P)
    try:
        feeds = await three_feeds(server, fixed)
        await fixed.ingest.run_cycle(NOW)
        for feed in feeds:
            stored = await fixed.feed(feed.id)
            assert stored.poll_interval == P
            assert stored.next_fetch_at is not None
            assert NOW + timedelta(seconds=108) <= stored.next_fetch_at <= NOW + timedelta(seconds=132)
        assert (await fixed.feed(feeds[0].id)).pace.gap == pytest.approx(300)  # learnt all the same
    finally:
        await fixed.close()
