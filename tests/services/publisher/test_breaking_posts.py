"""Breaking posts through the real publisher and the stand-in, the clock injected: one jumps ahead of ten
queued posts, is marked, rings with DISABLE_NOTIFICATION=true and is pinned; the next one takes the pin;
PIN_HOURS lift it; a channel where the bot may not pin still gets every post."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import structlog

from bot.adapters.db import Database
from bot.core.models import Article
from bot.sandbox.botapi import LocalBotAPI
from bot.settings import Settings
from tests.kits.outboxkit import (
    CHANNEL,
    article,
    fast_config,
    running_publisher,
    store,
    wait_states,
    wait_value,
)

NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def mark_breaking(db: Database, *numbers: int) -> None:
    async with db.transaction() as conn:
        for n in numbers:
            await conn.execute(
                "UPDATE outbox SET breaking = 1 WHERE article_id = (SELECT id FROM articles WHERE url = ?)",
                (f"https://news.example/story/{n}",),
            )


def story(i: int) -> Article:
    return article(i, published=NOW - timedelta(minutes=60 - i))  # published in their numbers' order


def first_lines(api: LocalBotAPI) -> list[str]:
    return [p.text.split("\n")[0] for p in api.channel_posts(CHANNEL)]


async def test_breaking_jumps_ten_queued_posts_rings_and_is_pinned(
    api: LocalBotAPI, settings: Settings
) -> None:
    clock = Clock(NOW)
    config = fast_config(disable_notification=True)
    async with running_publisher(settings, config, clock=clock) as run:
        await run.publisher.pause("loading")
        await store(run.db, [story(i) for i in range(1, 12)], now=NOW)
        await mark_breaking(run.db, 11)
        await run.publisher.resume()
        await wait_states(run.db, {"sent": 11})
        posts = api.channel_posts(CHANNEL)
        queue = await run.db.fetchall(
            "SELECT a.headline FROM outbox o JOIN articles a ON a.id = o.article_id"
            " WHERE o.breaking = 0 ORDER BY o.id"
        )
        assert first_lines(api) == ["🔴 BREAKING: Headline number 11", *(r[0] for r in queue)]
        assert [p.disable_notification for p in posts] == [False] + [True] * 10
        await api.wait_until(lambda: api.pinned(CHANNEL) == [posts[0].message_id])

        await run.publisher.pause("loading")
        await store(run.db, [story(12), story(13)], now=NOW)
        await mark_breaking(run.db, 13)
        await run.publisher.resume()
        await wait_states(run.db, {"sent": 13})
        latest = api.channel_posts(CHANNEL)[11]
        assert latest.text.startswith("🔴 BREAKING: Headline number 13")
        await api.wait_until(lambda: api.pinned(CHANNEL) == [latest.message_id])  # the previous pin is lifted

        clock.now = NOW + timedelta(hours=5)
        run.publisher.wake()
        await asyncio.sleep(0.3)  # several steps before PIN_HOURS (6) are up: still pinned
        assert api.pinned(CHANNEL) == [latest.message_id]
        clock.now = NOW + timedelta(hours=6, seconds=1)
        run.publisher.wake()
        await api.wait_until(lambda: api.pinned(CHANNEL) == [])
        await wait_value(run.db, "SELECT COUNT(*) FROM pins WHERE unpinned_at IS NULL", 0)
    assert len(api.calls("unpinAllChatMessages")) == 0


async def test_no_right_to_pin_never_stops_posting(api: LocalBotAPI, settings: Settings) -> None:
    api.chats[CHANNEL].bot_can_pin = False
    with structlog.testing.capture_logs() as logs:
        async with running_publisher(settings, fast_config(), clock=Clock(NOW)) as run:
            await run.publisher.pause("loading")
            await store(run.db, [story(1), story(2), story(3)], now=NOW)
            await mark_breaking(run.db, 1, 3)
            await run.publisher.resume()
            await wait_states(run.db, {"sent": 3})
    assert first_lines(api)[2] == "Headline number 2"
    assert sorted(first_lines(api)[:2]) == [
        "🔴 BREAKING: Headline number 1",
        "🔴 BREAKING: Headline number 3",
    ]
    assert api.pinned(CHANNEL) == []
    failures = [e for e in logs if e["event"] == "pin_failed"]
    assert [e["log_level"] for e in failures] == ["warning", "debug"]  # told once
    assert not [e for e in logs if e["event"] == "channel_paused"]
