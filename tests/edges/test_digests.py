"""Digests end to end: the real bot (`serve`, the PTB Application, the ingest process) against the Bot API
stand-in and a feed server, with the digest clock injected: one briefing per slot, a restart in the same
slot never doubles it, none when nothing is new, a slot missed beyond the grace is skipped and logged, and
a reader's `/subscribe climate daily` brings no message per story but one daily digest."""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import structlog

from bot.core.briefing import title
from bot.core.daytime import load_zone, next_slot, parse_times
from bot.edges import runtime as runtime_module
from bot.sandbox.botapi import LocalBotAPI, SentMessage
from bot.services.briefings import Briefings
from bot.settings import load_settings
from tests.kits.chatkit import poll_until, serving
from tests.kits.feedserver import FeedServer
from tests.kits.newsroomkit import ADA, CHANNEL, READER, TOKEN, Story, rss

KL = load_zone("Asia/Kuala_Lumpur")
STORIES = [
    Story("a", "Parliament session opens", age_minutes=30),
    Story("b", "Flood warnings in the north", category="Weather", age_minutes=20),
    Story("c", "Markets close higher", category="Business", age_minutes=10),
]


@dataclass
class DigestClock:
    """The digest service's clock: the real time until a test sets it; every built service is kept."""

    fixed: datetime | None = None
    services: list[Briefings] = field(default_factory=list)
    steps: int = 0

    def __call__(self) -> datetime:
        return self.fixed or datetime.now(UTC)

    def at(self, when: datetime) -> None:
        self.fixed = when
        self.services[-1].wake()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> DigestClock:
    made = DigestClock()
    build = runtime_module.build_briefings

    def with_clock(runtime: runtime_module.Runtime) -> Briefings:
        service = build(runtime)
        service.clock = made
        step: Callable[[Any], Awaitable[float]] = service.step

        async def counted(sender: Any) -> float:
            nap = await step(sender)
            made.steps += 1
            return nap

        service.step = counted  # type: ignore[method-assign]
        made.services.append(service)
        return service

    monkeypatch.setattr(runtime_module, "build_briefings", with_clock)
    return made


def digests(api: LocalBotAPI, chat: int) -> list[SentMessage]:
    return [m for m in api.chat_messages(chat) if m.text.startswith("🗞")]


async def ask(api: LocalBotAPI, text: str, user_id: int = READER) -> str:
    api.inject_message(text, user_id=user_id)
    return (await api.wait_for_reply(user_id, timeout=10)).text


async def test_one_digest_per_slot_and_a_daily_reader(tmp_path: Path, clock: DigestClock) -> None:
    now = datetime.now(UTC)
    times = f"{now.astimezone(KL) + timedelta(hours=1):%H:%M},{now.astimezone(KL) + timedelta(hours=3):%H:%M}"
    first = next_slot(now, parse_times(times), KL)
    assert first is not None
    second = next_slot(first.when, parse_times(times), KL)
    assert second is not None
    next_day = first.when + timedelta(days=1)
    db_path = tmp_path / "bot.db"

    def rows(sql: str) -> list[tuple[Any, ...]]:
        with sqlite3.connect(db_path) as conn:
            return conn.execute(sql).fetchall()

    async with FeedServer() as feeds, LocalBotAPI(TOKEN, private_limit=(20, 1.0)) as api:
        feeds.route("/feed.xml", rss(STORIES), content_type="application/rss+xml")
        api.add_chat(CHANNEL, username="dailynews", title="Daily News", admins={ADA: "creator"})
        for user_id, name in ((ADA, "Ada"), (READER, "Rita")):
            api.remember_user(user_id, username=name.lower(), first_name=name)
        env = {
            "BOT_TOKEN": TOKEN,
            "TELEGRAM_API_URL": api.api_url,
            "CHANNEL_ID": str(CHANNEL),
            "ADMIN_IDS": str(ADA),
            "DATABASE_PATH": str(db_path),
            "PARSE_WORKERS": "1",
            "DIGEST_TIMES": times,
            "TIMEZONE": "Asia/Kuala_Lumpur",
            "DIGEST_GRACE_MINUTES": "60",
            "COMMAND_BURST": "10",
        }
        async with serving(api, load_settings(None, **env)):  # no feed yet: a reader signs up
            assert (await ask(api, "/addtopic climate flood", ADA)).startswith("✅ Topic climate added")
            assert (await ask(api, "/subscribe climate weekly")).startswith("Send /subscribe followed by")
            assert "one private message a day" in await ask(api, "/subscribe climate daily")
            assert "for each new article" in await ask(api, "/subscribe climate")  # switching works both ways
            assert "one private message a day" in await ask(api, "/subscribe climate DAILY")
            assert "already follow" in await ask(api, "/subscribe climate daily")
            assert "climate (daily)" in await ask(api, "/mytopics")

        settings = load_settings(None, **env, FEEDS=feeds.url("/feed.xml"))
        async with serving(api, settings):
            await api.wait_until(lambda: len(api.channel_posts(CHANNEL)) == 3, timeout=20)
            assert rows("SELECT COUNT(*) FROM dm_outbox") == [(0,)]  # a daily reader: no message per story
            clock.at(first.when + timedelta(minutes=1))
            await api.wait_until(lambda: len(api.channel_posts(CHANNEL)) == 4, timeout=10)

        briefing = api.channel_posts(CHANNEL)[-1]
        assert briefing.text.splitlines() == [
            f"🗞 {title(first.when, KL)}",
            "",
            "climate",
            "• Flood warnings in the north",
            "",
            "More news",
            "• Markets close higher",
            "• Parliament session opens",
        ]
        assert [e["url"] for e in briefing.entities if e["type"] == "text_link"] == [
            "https://news.example/b",
            "https://news.example/c",
            "https://news.example/a",
        ]
        assert briefing.disable_notification is False
        assert briefing.link_preview_options == {"is_disabled": True}

        clock.fixed = first.when + timedelta(minutes=2)  # a restart in the same slot
        steps = clock.steps
        async with serving(api, settings):
            await poll_until(lambda: clock.steps > steps)
            assert len(api.channel_posts(CHANNEL)) == 4
            clock.at(second.when + timedelta(minutes=1))  # nothing new since the last briefing
            await poll_until(
                lambda: rows("SELECT state FROM digests WHERE kind = 'channel'")[-1:] == [("empty",)]
            )
            assert len(api.channel_posts(CHANNEL)) == 4
            with structlog.testing.capture_logs() as logs:
                clock.at(next_day + timedelta(minutes=61))  # the bot "was down" past the grace
                await poll_until(lambda: any(e["event"] == "digest_missed" for e in logs))
            assert len(api.channel_posts(CHANNEL)) == 4
        missed = [e for e in logs if e["event"] == "digest_missed"]
        missed_key = f"{next_day.astimezone(KL).date().isoformat()}T{first.at:%H:%M}"
        assert [(e["slot"], e["late_minutes"]) for e in missed] == [(missed_key, 61)]
        states = rows("SELECT slot, state FROM digests WHERE kind = 'channel' ORDER BY created_at")
        assert states[-3:] == [(first.key, "sent"), (second.key, "empty"), (missed_key, "missed")]

        daily = digests(api, READER)  # at the first slot of the day, whichever of the two that was
        assert len(daily) == 1
        assert daily[0].text.splitlines()[2:] == ["climate", "• Flood warnings in the north"]
        assert "digest of your topics" in daily[0].text.splitlines()[0]
