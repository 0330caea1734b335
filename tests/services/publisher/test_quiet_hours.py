"""Quiet hours in the publisher with the clock injected: held posts wait for the window's end and go out in
order, breaking news goes at once and rings; in silent mode posts go out without a notification."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.adapters.db import Database
from bot.core.daytime import load_zone, parse_quiet_hours
from bot.sandbox.botapi import LocalBotAPI
from bot.settings import Settings
from tests.kits.outboxkit import CHANNEL, article, fast_config, running_publisher, store, wait_states

NIGHT = datetime(2026, 12, 3, 15, 30, tzinfo=UTC)  # 23:30 in Kuala Lumpur
KL = load_zone("Asia/Kuala_Lumpur")


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def mark_breaking(db: Database, url: str) -> None:
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE outbox SET breaking = 1 WHERE article_id = (SELECT id FROM articles WHERE url = ?)",
            (url,),
        )


async def test_hold_releases_in_order_when_the_window_ends(api: LocalBotAPI, settings: Settings) -> None:
    clock = Clock(NIGHT)
    config = fast_config(quiet_window=parse_quiet_hours("23:00-07:00"), quiet_mode="hold", zone=KL)
    async with running_publisher(settings, config, clock=clock) as run:
        await run.publisher.pause("loading")
        await store(run.db, [article(1), article(2), article(3)], now=NIGHT)
        await mark_breaking(run.db, "https://news.example/story/3")
        await run.publisher.resume()
        await wait_states(run.db, {"sent": 1, "queued": 2})
        await asyncio.sleep(0.3)  # several publisher steps: the held posts stay held
        posts = api.channel_posts(CHANNEL)
        assert [p.text.split("\n")[0] for p in posts] == ["🔴 BREAKING: Headline number 3"]
        assert posts[0].disable_notification is False
        clock.now = NIGHT + timedelta(hours=7, minutes=31)  # 07:01 local: the window has ended
        run.publisher.wake()
        await wait_states(run.db, {"sent": 3})
    assert [p.text.split("\n")[0] for p in api.channel_posts(CHANNEL)][1:] == [
        "Headline number 1",
        "Headline number 2",
    ]


async def test_silent_mode_hushes_posts_but_not_breaking(api: LocalBotAPI, settings: Settings) -> None:
    clock = Clock(NIGHT)
    config = fast_config(quiet_window=parse_quiet_hours("23:00-07:00"), zone=KL)
    async with running_publisher(settings, config, clock=clock) as run:
        await run.publisher.pause("loading")
        await store(run.db, [article(1), article(2)], now=NIGHT)
        await mark_breaking(run.db, "https://news.example/story/2")
        await run.publisher.resume()
        await wait_states(run.db, {"sent": 2})
        clock.now = NIGHT + timedelta(hours=9)  # 08:30 local
        await store(run.db, [article(3)], now=clock.now)
        run.publisher.wake()
        await wait_states(run.db, {"sent": 3})
    rings = {p.text.split("\n")[0]: not p.disable_notification for p in api.channel_posts(CHANNEL)}
    assert rings == {
        "🔴 BREAKING: Headline number 2": True,
        "Headline number 1": False,
        "Headline number 3": True,
    }
