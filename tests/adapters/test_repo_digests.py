"""DigestRepo on a real SQLite file: a slot is claimed once ever (two connections racing included), stale
claims fail, and a digest's stories are the channel's live ones since the previous digest."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.adapters.db import Database
from bot.adapters.repo_digests import DigestRepo
from bot.adapters.repo_topics import TopicRepo
from bot.core.models import Topic
from tests.kits.outboxkit import CHANNEL, article, store

NOW = datetime(2026, 12, 3, 0, 0, tzinfo=UTC)
SLOT = "2026-12-03T08:00"


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with Database(tmp_path / "bot.db") as opened:
        yield opened


async def test_a_slot_is_claimed_once_even_by_two_connections(db: Database, tmp_path: Path) -> None:
    repo = DigestRepo(db)
    assert await repo.claim("channel", "c", SLOT, since=NOW, state="sending", now=NOW)
    assert not await repo.claim("channel", "c", SLOT, since=NOW, state="sending", now=NOW)
    assert not await repo.claim("channel", "c", SLOT, since=NOW, state="missed", now=NOW)
    assert await repo.claim("daily", "c", SLOT, since=NOW, state="sending", now=NOW)  # another kind
    async with Database(tmp_path / "bot.db") as other:
        wins = await asyncio.gather(
            *(
                DigestRepo(conn).claim(
                    "channel", "c", "2026-12-03T18:00", since=NOW, state="sending", now=NOW
                )
                for conn in (db, other, db, other)
            )
        )
    assert sorted(wins) == [False, False, False, True]
    assert await repo.claimed("channel", "c", [SLOT, "2026-12-04T08:00"]) == {SLOT}


async def test_stale_claims_fail_and_only_told_digests_move_the_start(db: Database) -> None:
    repo = DigestRepo(db)
    for n, (slot, state) in enumerate((("a", "sending"), ("b", "missed"), ("c", "sending"))):
        await repo.claim("channel", "c", slot, since=NOW, state=state, now=NOW + timedelta(hours=n))
    await repo.finish("channel", "c", "a", "sent", now=NOW, message_id=7, stories=3)
    assert await repo.fail_stale("interrupted", now=NOW) == [("channel", "c", "c")]
    assert await repo.fail_stale("interrupted", now=NOW) == []
    rows = await db.fetchall("SELECT slot, state, message_id, last_error FROM digests ORDER BY slot")
    assert [tuple(r) for r in rows] == [
        ("a", "sent", 7, None),
        ("b", "missed", None, None),
        ("c", "failed", None, "interrupted"),
    ]
    assert await repo.last_at("channel", "c") == NOW  # the sent one; missed and failed told nobody
    assert await repo.last_at("daily", "c") is None


async def test_stories_are_the_channels_live_posts_since_then(db: Database) -> None:
    early, late = NOW - timedelta(hours=2), NOW + timedelta(minutes=5)
    await store(db, [article(1)], now=early)
    await store(db, [article(n) for n in range(2, 7)], now=late)
    await store(db, [article(7)], channel="@elsewhere", now=late)
    await db.execute_write("UPDATE outbox SET state = 'skipped' WHERE article_id = 3")
    await db.execute_write("UPDATE outbox SET review = 1 WHERE article_id = 4")
    await db.execute_write("UPDATE outbox SET state = 'sent', breaking = 1 WHERE article_id = 5")
    repo = DigestRepo(db)
    stories = await repo.stories_since(NOW, str(CHANNEL))
    assert [(s.article_id, s.breaking) for s in stories] == [(6, False), (5, True), (2, False)]
    assert [s.url for s in stories][-1] == "https://news.example/story/2"
    assert len(await repo.stories_since(early - timedelta(seconds=1), str(CHANNEL))) == 4


async def test_daily_readers_and_their_topics_stories(db: Database) -> None:
    topics = TopicRepo(db)
    climate, _ = await topics.save(Topic("climate", keywords=("flood",)), NOW)
    sport, _ = await topics.save(Topic("sport", keywords=("match", "flood")), NOW)
    await topics.subscribe(501, climate.id, NOW, mode="daily")
    await topics.subscribe(501, sport.id, NOW)  # each story: not in the digest
    await topics.subscribe(502, sport.id, NOW, mode="daily")
    await store(db, [article(1, headline="Flood warning"), article(2, headline="Match report")], now=NOW)
    for topic in await topics.all():
        await topics.retag(topic, now=NOW)
    repo = DigestRepo(db)
    assert await repo.daily_due(SLOT) == [501, 502]
    await repo.claim("daily", "501", SLOT, since=NOW, state="sending", now=NOW)
    assert await repo.daily_due(SLOT) == [502]
    mine = await repo.daily_stories(501, NOW - timedelta(hours=1))
    assert [(s.headline, s.topics) for s in mine] == [("Flood warning", ("climate",))]
    theirs = await repo.daily_stories(502, NOW - timedelta(hours=1))
    assert [(s.headline, s.topics) for s in theirs] == [
        ("Match report", ("sport",)),
        ("Flood warning", ("sport",)),
    ]
    assert await topics.subscribe(501, climate.id, NOW, mode="each")  # switching back works
    assert await repo.daily_stories(501, NOW - timedelta(hours=1)) == []
