"""PingService over a real SQLite feed table: matching, coalescing, and what a ping can never do."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import structlog

from bot.adapters.db import Database
from bot.adapters.repo_feeds import FeedRepo
from bot.core.schedule import feed_mode
from bot.services.pings import COALESCE_SECONDS, PingService

NOW = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def feeds(tmp_path: Path) -> AsyncIterator[FeedRepo]:
    async with Database(tmp_path / "pings.db") as db:
        repo = FeedRepo(db)
        planet = await repo.add("https://dailyplanet.example/feed/", NOW)
        await repo.add("https://dailyplanet.example/sport/feed/", NOW)
        await repo.add("https://quiet.example/rss.xml", NOW)
        await db.execute_write(
            "UPDATE feeds SET site_url = 'https://dailyplanet.example/' WHERE url LIKE '%dailyplanet%'"
        )
        assert planet.id == 1
        yield repo


async def test_a_site_ping_reads_every_feed_of_that_site_once_per_ten_seconds(feeds: FeedRepo) -> None:
    asked: list[int] = []
    clock = Clock()
    pings = PingService(feeds, asked.append, clock=clock)
    first = await pings.ping(["http://www.dailyplanet.example"])
    assert (first.feeds, first.fetching) == ((1, 2), (1, 2))
    for _ in range(50):  # a burst of pings: coalesced
        clock.now += 0.1
        again = await pings.ping(["https://dailyplanet.example/"])
        assert again.fetching == ()
    clock.now += COALESCE_SECONDS
    later = await pings.ping(["https://dailyplanet.example/feed/"])  # the feed's own URL: that feed only
    assert (later.feeds, later.fetching) == ((1,), (1,))
    assert asked == [1, 2, 1]
    assert set(pings.last_ping) == {1, 2}
    # /feeds and `newsbot feeds list` say so: "pinged, polled every …"
    assert [(f.id, f.pinged, feed_mode(f)) for f in await feeds.all()] == [
        (1, True, "pinged"),
        (2, True, "pinged"),
        (3, False, "polled"),
    ]
    await feeds.db.execute_write("UPDATE feeds SET pinged_at = pinged_at - 8 * 86400 WHERE id = 2")
    assert [f.pinged for f in await feeds.all()] == [True, False, False]  # not pinged for a week


async def test_unknown_urls_fetch_nothing_and_a_flood_logs_once(feeds: FeedRepo) -> None:
    asked: list[int] = []
    clock = Clock()
    pings = PingService(feeds, asked.append, clock=clock)
    with structlog.testing.capture_logs() as logs:
        for i in range(200):
            clock.now += 0.01
            outcome = await pings.ping([f"https://spam{i}.example/", "https://quiet.example/"])
            assert outcome.feeds == ()
    assert asked == []
    ignored = [e for e in logs if e["event"] == "ping_ignored"]
    assert len(ignored) == 1
    clock.now += 61
    with structlog.testing.capture_logs() as logs:
        await pings.ping(["https://spam.example/"])
    assert [(e["event"], e["suppressed"]) for e in logs] == [("ping_ignored", 199)]


async def test_a_feed_added_later_is_found_and_a_disabled_one_is_not(feeds: FeedRepo) -> None:
    asked: list[int] = []
    clock = Clock()
    pings = PingService(feeds, asked.append, clock=clock)
    assert (await pings.ping(["https://new.example/feed"])).feeds == ()
    new = await feeds.add("https://new.example/feed", NOW)
    clock.now += 3  # a miss refreshes the index, at most every 2 s
    assert (await pings.ping(["https://new.example/feed"])).fetching == (new.id,)
    await feeds.db.execute_write("UPDATE feeds SET enabled = 0 WHERE id = 3")
    clock.now += 31
    assert (await pings.ping(["https://quiet.example/rss.xml"])).feeds == ()
    assert asked == [new.id]
