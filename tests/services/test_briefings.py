"""Digests with the clock injected, through the Bot API stand-in and a real SQLite file: one per slot ever,
none when nothing is new, late only within the grace, readers' daily digests instead of story messages."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import structlog
from telegram import Bot

from bot.adapters.catalogs import Translators
from bot.adapters.db import Database
from bot.adapters.repo_articles import ArticleRepo
from bot.adapters.repo_digests import DigestRepo
from bot.adapters.repo_dm import DMRepo
from bot.adapters.repo_feeds import FeedRepo
from bot.adapters.repo_outbox import OutboxRepo
from bot.adapters.repo_topics import TopicRepo
from bot.adapters.telegram_newsroom import NewsroomSender
from bot.core.daytime import load_zone, parse_quiet_hours, parse_times
from bot.core.models import Topic
from bot.core.pacing import Pacer
from bot.core.policy import PostPolicy
from bot.sandbox.botapi import LocalBotAPI
from bot.services.briefings import BriefingConfig, Briefings
from tests.kits.outboxkit import CHANNEL, TOKEN, article, store

KL = load_zone("Asia/Kuala_Lumpur")
READER = 501
MORNING = datetime(2026, 12, 3, 0, 0, tzinfo=UTC)  # 08:00 in Kuala Lumpur, a Thursday


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[tuple[LocalBotAPI, Database, Bot]]:
    async with LocalBotAPI(TOKEN) as api:
        api.add_chat(CHANNEL, username="dailynews", title="Daily News")
        api.private_chat(READER).started = True
        db = await Database(tmp_path / "bot.db").open(migrate=True)
        bot = Bot(TOKEN, base_url=f"{api.api_url}/bot")
        await bot.initialize()
        try:
            yield api, db, bot
        finally:
            await bot.shutdown()
            await db.close()


def briefings(db: Database, bot: Bot, clock: Clock, pacer: Pacer | None = None, **config: Any) -> Briefings:
    settings: dict[str, Any] = {
        "channel_id": str(CHANNEL),
        "times": parse_times("08:00,18:00"),
        "zone": KL,
        "size": 3,
    }
    settings.update(config)
    return Briefings(
        DigestRepo(db),
        DMRepo(db),
        NewsroomSender,
        BriefingConfig(**settings),
        channel_pacer=pacer,
        paused=OutboxRepo(db).is_paused,
        clock=clock,
    )


async def test_one_digest_per_slot_grouped_and_dated(world: tuple[LocalBotAPI, Database, Bot]) -> None:
    api, db, bot = world
    topics = TopicRepo(db)
    await topics.save(Topic("Climate", keywords=("flood",)), MORNING)
    clock = Clock(MORNING - timedelta(hours=2))
    await store(
        db,
        [article(1, headline="Flood warnings in the north"), article(2), article(3), article(4)],
        now=clock.now,
    )
    await topics.retag((await topics.all())[0], now=clock.now)
    service = briefings(db, bot, clock)
    sender = NewsroomSender(bot)
    await service.step(sender)
    assert api.channel_posts(CHANNEL) == []  # 06:00 in KL: yesterday's 18:00 is long past the grace
    clock.now = MORNING + timedelta(minutes=5)
    await service.step(sender)
    await service.step(sender)  # the same slot again: nothing more
    posts = api.channel_posts(CHANNEL)
    assert len(posts) == 1
    lines = posts[0].text.splitlines()
    assert lines[0] == "🗞 Morning briefing, Thursday 3 December"
    assert lines[1:4] == ["", "Climate", "• Flood warnings in the north"]
    assert lines[5] == "More news"
    assert len([ln for ln in lines if ln.startswith("• ")]) == 3  # DIGEST_SIZE
    assert posts[0].entities[1]["type"] == "bold"
    restarted = briefings(db, bot, clock)  # a restart in the same slot never doubles it
    await restarted.step(sender)
    assert len(api.channel_posts(CHANNEL)) == 1
    clock.now = MORNING + timedelta(hours=10, minutes=1)  # 18:01: nothing new since the morning
    with structlog.testing.capture_logs() as logs:
        await restarted.step(sender)
    assert len(api.channel_posts(CHANNEL)) == 1
    assert any(e["event"] == "digest_empty" for e in logs)


async def test_a_slot_missed_beyond_the_grace_is_skipped_and_logged(
    world: tuple[LocalBotAPI, Database, Bot],
) -> None:
    api, db, bot = world
    clock = Clock(MORNING - timedelta(hours=1))
    await store(db, [article(1)], now=clock.now)
    clock.now = MORNING + timedelta(minutes=61)
    with structlog.testing.capture_logs() as logs:
        await briefings(db, bot, clock).step(NewsroomSender(bot))
    assert api.channel_posts(CHANNEL) == []
    assert [e["slot"] for e in logs if e["event"] == "digest_missed"] == ["2026-12-03T08:00"]
    clock.now = MORNING + timedelta(minutes=59)  # within the grace (had the clock been earlier): still once
    await briefings(db, bot, clock).step(NewsroomSender(bot))
    assert api.channel_posts(CHANNEL) == []


async def test_daily_readers_get_one_digest_and_no_story_messages(
    world: tuple[LocalBotAPI, Database, Bot],
) -> None:
    api, db, bot = world
    topics = TopicRepo(db)
    stored, _ = await topics.save(Topic("Climate", keywords=("flood",)), MORNING)
    await topics.subscribe(READER, stored.id, MORNING, mode="daily")
    clock = Clock(MORNING - timedelta(hours=3))
    feed, _ = await FeedRepo(db).ensure("http://127.0.0.1:9/feed.xml", clock.now)
    result = await ArticleRepo(db).store(
        feed.id,
        [article(1, headline="Flood barrier holds"), article(2)],
        now=clock.now,
        first_sync=False,
        policy=PostPolicy(),
        channel_id=str(CHANNEL),
        matchers=await topics.matchers(),
    )
    assert result.dms_queued == 0  # a daily reader gets no message per story
    clock.now = MORNING + timedelta(minutes=1)
    service = briefings(db, bot, clock, channel_id=None)
    await service.step(NewsroomSender(bot))
    await service.step(NewsroomSender(bot))
    digests = api.chat_messages(READER)
    assert len(digests) == 1
    assert digests[0].text.splitlines()[0] == "🗞 Morning digest of your topics, Thursday 3 December"
    assert "Flood barrier holds" in digests[0].text
    assert "Headline number 2" not in digests[0].text


async def test_a_claim_left_sending_by_a_crash_is_failed_and_never_sent(
    world: tuple[LocalBotAPI, Database, Bot],
) -> None:
    api, db, bot = world
    clock = Clock(MORNING - timedelta(hours=1))
    await store(db, [article(1)], now=clock.now)
    crashed = DigestRepo(db)
    assert await crashed.claim(
        "channel", str(CHANNEL), "2026-12-03T08:00", since=clock.now, state="sending", now=MORNING
    )
    clock.now = MORNING + timedelta(minutes=2)
    service = briefings(db, bot, clock)
    with structlog.testing.capture_logs() as logs:
        await service.recover()
        await service.step(NewsroomSender(bot))
    assert api.channel_posts(CHANNEL) == []
    assert [e["slot"] for e in logs if e["event"] == "digest_interrupted"] == ["2026-12-03T08:00"]
    row = await db.fetchone("SELECT state, last_error FROM digests")
    assert row is not None
    assert row[0] == "failed"
    assert row[1].startswith("interrupted")


async def test_quiet_hours_hush_the_digest_and_it_counts_on_the_channels_budget(
    world: tuple[LocalBotAPI, Database, Bot],
) -> None:
    api, db, bot = world
    clock = Clock(MORNING - timedelta(hours=1))
    await store(db, [article(1)], now=clock.now)
    clock.now = MORNING + timedelta(minutes=1)
    pacer = Pacer.telegram(posts_per_window=1, window=60.0)  # the publisher's, one post a minute here
    quiet = parse_quiet_hours("07:00-09:00")
    await briefings(db, bot, clock, pacer, quiet_window=quiet).step(NewsroomSender(bot))
    posts = api.channel_posts(CHANNEL)
    assert len(posts) == 1
    assert posts[0].disable_notification is True
    assert pacer.wait_time(str(CHANNEL), time.monotonic()) > 50  # the publisher's next post waits


async def test_a_daily_reader_who_blocked_the_bot_is_unsubscribed(
    world: tuple[LocalBotAPI, Database, Bot],
) -> None:
    api, db, bot = world
    topics = TopicRepo(db)
    stored, _ = await topics.save(Topic("Climate", keywords=("flood",)), MORNING)
    await topics.subscribe(READER, stored.id, MORNING, mode="daily")
    clock = Clock(MORNING - timedelta(hours=1))
    await store(db, [article(1, headline="Flood barrier holds")], now=clock.now)
    await topics.retag(stored, now=clock.now)
    api.block_bot(READER)
    clock.now = MORNING + timedelta(minutes=1)
    with structlog.testing.capture_logs() as logs:
        await briefings(db, bot, clock, channel_id=None).step(NewsroomSender(bot))
    assert [e["user_id"] for e in logs if e["event"] == "dm_reader_gone"] == [READER]
    assert await db.fetchall("SELECT * FROM subscriptions") == []
    row = await db.fetchone("SELECT state FROM digests WHERE kind = 'daily'")
    assert row is not None
    assert row[0] == "failed"


async def test_a_paused_channel_holds_its_digest_until_resumed_within_the_grace(
    world: tuple[LocalBotAPI, Database, Bot],
) -> None:
    api, db, bot = world
    clock = Clock(MORNING - timedelta(hours=1))
    await store(db, [article(1)], now=clock.now)
    outbox = OutboxRepo(db)
    await outbox.pause_all("paused by an admin", now=clock.now)
    clock.now = MORNING + timedelta(minutes=1)
    service = briefings(db, bot, clock)
    assert await service.step(NewsroomSender(bot)) == 60.0
    assert api.channel_posts(CHANNEL) == []
    assert await db.fetchall("SELECT * FROM digests") == []  # nothing claimed while paused
    await outbox.resume_all()
    clock.now = MORNING + timedelta(minutes=30)
    await service.step(NewsroomSender(bot))
    assert len(api.channel_posts(CHANNEL)) == 1


async def test_a_daily_digest_is_in_the_language_the_reader_followed_in(
    world: tuple[LocalBotAPI, Database, Bot],
) -> None:
    api, db, bot = world
    topics = TopicRepo(db)
    stored, _ = await topics.save(Topic("Climate", keywords=("flood",)), MORNING)
    await topics.subscribe(READER, stored.id, MORNING, mode="daily", language="ms")
    clock = Clock(MORNING - timedelta(hours=3))
    feed, _ = await FeedRepo(db).ensure("http://127.0.0.1:9/feed.xml", clock.now)
    await ArticleRepo(db).store(
        feed.id,
        [
            article(1, headline="Flood barrier holds"),
            article(2, headline="Flood maps redrawn", categories=()),
        ],
        now=clock.now,
        first_sync=False,
        policy=PostPolicy(),
        channel_id=str(CHANNEL),
        matchers=await topics.matchers(),
    )
    clock.now = MORNING + timedelta(minutes=1)
    translators = Translators("en")
    service = briefings(
        db, bot, clock, channel_id=None, translator=lambda lang: translators.language(lang or "en")
    )
    await service.step(NewsroomSender(bot))
    (digest,) = api.chat_messages(READER)
    assert digest.text.splitlines()[0] == "🗞 Ringkasan pagi topik anda, Khamis 3 Disember"
    assert "Flood barrier holds" in digest.text
