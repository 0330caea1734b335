"""Test helpers for the outbox: articles stored through ArticleRepo, a publisher on the real PTB Bot.

`running_publisher` opens the runtime (real SQLite file), builds the real python-telegram-bot Application
against a LocalBotAPI, and runs a Publisher loop on the Application's Bot until the block ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.adapters.db import Database
from bot.adapters.repo_articles import ArticleRepo, StoreResult
from bot.adapters.repo_feeds import FeedRepo
from bot.adapters.repo_outbox import OutboxRepo
from bot.adapters.repo_pins import PinRepo
from bot.adapters.telegram_sender import TelegramSender
from bot.core.models import Article
from bot.core.policy import PostPolicy
from bot.core.timeutil import utcnow
from bot.core.topics import TopicMatcher
from bot.edges.app import build_application
from bot.edges.runtime import Runtime, open_runtime
from bot.sandbox.botapi import LocalBotAPI, SentMessage
from bot.services.publisher import Publisher, PublisherConfig
from bot.settings import DEFAULT_TEMPLATE, Settings, load_settings

TOKEN = "123456:TEST-token"
CHANNEL = -1001234567890
ADMINS = (4242, 4343)
FEED_URL = "http://127.0.0.1:9/feed.xml"  # the discard port: an ingest loop fails fast, no DNS


def article(i: int, *, headline: str | None = None, dek: str | None = None, **extra: Any) -> Article:
    fields: dict[str, Any] = {
        "guid": f"story-{i}",
        "url": f"https://news.example/story/{i}",
        "headline": headline if headline is not None else f"Headline number {i}",
        "dek": dek if dek is not None else f"The dek of story {i}, in one sentence.",
        "published": datetime.now(UTC),
        "source": "News Example",
    }
    return Article(**(fields | extra))


async def store(
    db: Database,
    articles: Sequence[Article],
    *,
    channel: int | str = CHANNEL,
    now: datetime | None = None,
    matchers: Sequence[TopicMatcher] = (),
) -> StoreResult:
    """Store (and queue for the channel) like the ingest cycle does, in one transaction; `matchers` tag
    topics (TopicRepo.matchers())."""
    feed, _ = await FeedRepo(db).ensure(FEED_URL, datetime.now(UTC))
    return await ArticleRepo(db).store(
        feed.id,
        list(articles),
        now=now or datetime.now(UTC),
        first_sync=False,
        policy=PostPolicy(),
        channel_id=str(channel),
        matchers=matchers,
    )


def settings_for(api: LocalBotAPI, db_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": api.api_url,
        "CHANNEL_ID": str(CHANNEL),
        "ADMIN_IDS": ",".join(map(str, ADMINS)),
        "DATABASE_PATH": str(db_path),
        "FEEDS": "",
    }
    values.update(overrides)
    return load_settings(None, **values)


def fast_config(**overrides: Any) -> PublisherConfig:
    """Telegram's limits, polled quickly; tests shrink the window instead of sleeping a minute."""
    base = PublisherConfig(template=DEFAULT_TEMPLATE, admin_ids=ADMINS, poll_seconds=0.05)
    return dataclasses.replace(base, **overrides)


@dataclass
class Running:
    runtime: Runtime
    publisher: Publisher
    outbox: OutboxRepo
    bot: Any

    @property
    def db(self) -> Database:
        return self.runtime.db


@contextlib.asynccontextmanager
async def running_publisher(
    settings: Settings,
    config: PublisherConfig | None = None,
    *,
    timeout: float = 5.0,
    clock: Callable[[], datetime] | None = None,
) -> AsyncIterator[Running]:
    """The runtime's storage and the real PTB Application's Bot, with a Publisher loop running on it."""
    runtime = await open_runtime(settings)
    app = build_application(runtime)
    await app.initialize()
    outbox = OutboxRepo(runtime.db)

    def sender(bot: Any) -> TelegramSender:
        return TelegramSender(
            bot,
            link_preview=settings.link_preview,
            disable_notification=settings.disable_notification,
            timeout=timeout,
        )

    config = config or fast_config(disable_notification=settings.disable_notification)
    publisher = Publisher(outbox, sender, config, clock=clock or utcnow, pins=PinRepo(runtime.db))
    stop = asyncio.Event()
    task = asyncio.create_task(publisher.loop(app.bot, stop))
    try:
        yield Running(runtime, publisher, outbox, app.bot)
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=10)
        await app.shutdown()
        await runtime.close()


def texts(api: LocalBotAPI, chat: int | str = CHANNEL) -> list[str]:
    return [m.text for m in api.channel_posts(chat)]


def posts_of(api: LocalBotAPI, i: int, chat: int | str = CHANNEL) -> list[SentMessage]:
    """The channel's posts about story `i` (by its link)."""
    url = f"https://news.example/story/{i}"
    return [
        m for m in api.channel_posts(chat) if any(e.get("url") == url for e in m.entities) or url in m.text
    ]


def assert_each_once(api: LocalBotAPI, stories: range) -> None:
    counts = {i: len(posts_of(api, i)) for i in stories}
    assert counts == dict.fromkeys(stories, 1)


def story_order(api: LocalBotAPI) -> list[int]:
    """Story numbers of the channel's posts, in channel order, from their link entity."""
    return [int(m.entities[-1]["url"].rsplit("/", 1)[1]) for m in api.channel_posts(CHANNEL)]


@contextlib.asynccontextmanager
async def channel_api(**limits: Any) -> AsyncIterator[LocalBotAPI]:
    """The local Bot API with the channel (first admin its creator) and the admins' private chats."""
    async with LocalBotAPI(TOKEN, **limits) as server:
        server.add_chat(CHANNEL, username="newsbot_news", title="News", admins={ADMINS[0]: "creator"})
        for admin in ADMINS:
            server.add_user(admin, first_name=f"Admin {admin}")
        yield server


async def send_head(repo: OutboxRepo, message_id: int, now: datetime) -> int:
    """Claim and record as sent the oldest due post, as the publisher would after Telegram accepted it."""
    head = (await repo.due_heads(now))[0]
    assert await repo.claim(head.id)
    await repo.mark_sent(
        head.id,
        message_id=message_id,
        text=f"text {message_id}",
        headline=head.headline,
        dek=head.dek,
        now=now,
    )
    return head.id


async def states(db: Database) -> dict[str, int]:
    rows = await db.fetchall("SELECT state, COUNT(*) FROM outbox GROUP BY state")
    return {r[0]: r[1] for r in rows}


async def wait_states(db: Database, want: dict[str, int], timeout: float = 10.0) -> None:
    """Poll the outbox until its counts by state are `want` (the loop under test writes them)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while (got := await states(db)) != want:
        if loop.time() > deadline:
            raise TimeoutError(f"outbox states {got}, wanted {want}")
        await asyncio.sleep(0.02)


async def wait_value(db: Database, sql: str, want: object, timeout: float = 10.0) -> None:
    """Poll a one-value query until it returns `want`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        row = await db.fetchone(sql)
        got = row[0] if row is not None else None
        if got == want:
            return
        if loop.time() > deadline:
            raise TimeoutError(f"{sql!r} gave {got!r}, wanted {want!r}")
        await asyncio.sleep(0.02)
