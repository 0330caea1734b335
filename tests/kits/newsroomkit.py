"""A newsroom on loopback for end-to-end tests: the real bot (`serve`), the Bot API stand-in with a
channel, an editors' group and two editors, and a feed server whose RSS items a test writes."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape
from pathlib import Path
from typing import Any

from bot.sandbox.botapi import LocalBotAPI, SentMessage
from bot.settings import Settings, load_settings
from tests.kits.chatkit import serving
from tests.kits.feedserver import FeedServer

TOKEN = "123456:TEST-token-for-newsroom-tests-aaaaa"
CHANNEL = -1001234567890
CHANNEL_NAME = "dailynews"
EDITORS = -1005550001111
ADA, BEN = 4242, 4343  # two editors (ADMIN_IDS)
READER = 501


@dataclass(frozen=True, slots=True)
class Story:
    guid: str
    title: str
    dek: str = "A sentence long enough to be the standfirst of this story, as a sub-editor would want."
    category: str = "Politics"
    age_minutes: int = 5


def rss(stories: list[Story]) -> str:
    now = datetime.now(UTC)
    items = "".join(
        f"<item><title>{escape(s.title)}</title><link>https://news.example/{s.guid}</link>"
        f"<guid>https://news.example/{s.guid}</guid>"
        f"<pubDate>{format_datetime(now - timedelta(minutes=s.age_minutes))}</pubDate>"
        f"<category>{escape(s.category)}</category><description>{escape(s.dek)}</description></item>"
        for s in stories
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>The Daily</title>'
        f"<link>https://news.example/</link><description>News</description>{items}</channel></rss>"
    )


@dataclass
class Newsroom:
    api: LocalBotAPI
    feeds: FeedServer
    db_path: Path
    settings: Settings

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.db_path) as conn:
            return conn.execute(sql, params).fetchall()

    def posts(self) -> list[SentMessage]:
        return self.api.channel_posts(CHANNEL)

    async def preview(self, chat_id: int, *, after: int = 0, timeout: float = 15.0) -> SentMessage:
        """The next review preview (a message with buttons) in `chat_id` after message id `after`."""

        def find() -> SentMessage | None:
            for m in self.api.chat_messages(chat_id):
                if m.message_id > after and m.reply_markup and "inline_keyboard" in m.reply_markup:
                    return m
            return None

        await self.api.wait_until(lambda: find() is not None, timeout=timeout)
        found = find()
        assert found is not None
        return found


@asynccontextmanager
async def running_newsroom(
    tmp_path: Path, stories: list[Story], *, more_feeds: tuple[str, ...] = (), **overrides: str
) -> AsyncIterator[Newsroom]:
    """`more_feeds`: paths of further feeds on the same server, empty at start."""
    async with FeedServer() as feeds, LocalBotAPI(TOKEN) as api:
        feeds.route("/feed.xml", rss(stories), content_type="application/rss+xml")
        for path in more_feeds:
            feeds.route(path, rss([]), content_type="application/rss+xml")
        api.add_chat(CHANNEL, username=CHANNEL_NAME, title="Daily News", admins={ADA: "creator"})
        api.add_chat(
            EDITORS, title="Editors", type="supergroup", admins={ADA: "creator", BEN: "administrator"}
        )
        for user_id, name in ((ADA, "Ada"), (BEN, "Ben"), (READER, "Rita")):
            api.remember_user(user_id, username=name.lower(), first_name=name)
            api.private_chat(user_id).started = True
        env = {
            "BOT_TOKEN": TOKEN,
            "TELEGRAM_API_URL": api.api_url,
            "CHANNEL_ID": str(CHANNEL),
            "ADMIN_IDS": f"{ADA},{BEN}",
            "DATABASE_PATH": str(tmp_path / "bot.db"),
            "FEEDS": ",".join(feeds.url(path) for path in ("/feed.xml", *more_feeds)),
            "REVIEW": "on",
            "REVIEW_CHAT_ID": str(EDITORS),
            "PARSE_WORKERS": "1",
            **overrides,
        }
        settings = load_settings(None, **env)
        async with serving(api, settings):
            yield Newsroom(api, feeds, tmp_path / "bot.db", settings)
