"""Test harness for chat commands: the real bot (`serve`) against a LocalBotAPI over loopback HTTP.

`running_bot` fills a real SQLite file with real-looking articles (tests/articlefactory.py), starts
`bot.edges.app.serve` in a task with settings pointing at the stand-in, and yields a `ChatBot` whose `ask`
injects a user's message and returns the bot's reply as Telegram would show it.
"""

from __future__ import annotations

import asyncio
import socket
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.edges.app import serve
from bot.sandbox.botapi import LocalBotAPI, SentMessage
from bot.settings import Settings, load_settings
from tests.kits.articlefactory import FactoryResult, fill_articles

TOKEN = "123456:TEST-token-for-chat-tests-aaaaaaaaaa"
CHANNEL = -1001234567890
CHANNEL_NAME = "dailynews"
ADMIN = 4242
READER = 501


@dataclass
class ChatBot:
    api: LocalBotAPI
    db_path: Path
    made: FactoryResult
    settings: Settings

    async def ask(
        self, text: str, *, user_id: int = READER, chat_id: int | None = None, language: str | None = None
    ) -> SentMessage:
        """Send `text` as the user (in their private chat unless `chat_id`; their app in `language`) and
        return the bot's reply."""
        self.api.inject_message(
            text, user_id=user_id, chat_id=chat_id, chat_type="group", language_code=language
        )
        return await self.api.wait_for_reply(chat_id if chat_id is not None else user_id, timeout=10)

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Read the bot's database directly (WAL: a reader never waits for the bot's writes)."""
        conn = sqlite3.connect(self.db_path, timeout=10)
        try:
            return list(conn.execute(sql, params))
        finally:
            conn.close()

    async def write(self, sql: str, params: tuple[Any, ...] = ()) -> None:
        """Change the bot's database from a thread: waiting for the write lock on the event loop would
        stop the bot from finishing the transaction that holds it."""

        def run() -> None:
            conn = sqlite3.connect(self.db_path, timeout=10)
            try:
                with conn:
                    conn.execute(sql, params)
            finally:
                conn.close()

        await asyncio.to_thread(run)

    def scalar(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        return self.query(sql, params)[0][0]


async def poll_until(check: Callable[[], bool], *, timeout: float = 10.0) -> None:
    """Poll every 20 ms until `check()` holds: for state the stand-in's own waits don't see (the database,
    lists filled by other tasks)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        if loop.time() > deadline:
            raise TimeoutError(f"condition not met within {timeout} s")
        await asyncio.sleep(0.02)


def links(message: SentMessage) -> list[str]:
    """The URLs of the article links in a message, in order (not the bot's own t.me deep links)."""
    urls = [str(e["url"]) for e in message.entities if e.get("type") == "text_link"]
    return [u for u in urls if not u.startswith("https://t.me/")]


def bullet_lines(message: SentMessage) -> list[str]:
    return [line for line in message.text.splitlines() if line.startswith("• ")]


@asynccontextmanager
async def running_bot(
    tmp_path: Path,
    *,
    articles: int = 400,
    days: float = 20,
    private_limit: tuple[int, float] = (20, 1.0),
    mode: str = "polling",
    **overrides: str,
) -> AsyncIterator[ChatBot]:
    """The bot on a fresh database. Private chats accept 20 messages a second here (Telegram: about one,
    with bursts) so a test can ask quickly; tests of flood handling pass the real limit. `mode="webhook"`
    has the stand-in deliver updates to the bot's webhook on its own HTTP server instead."""
    db_path = tmp_path / "bot.db"
    made = fill_articles(db_path, articles, now=datetime.now(UTC), span=timedelta(days=days), seed=11)
    async with LocalBotAPI(TOKEN, private_limit=private_limit) as api:
        api.add_chat(CHANNEL, username=CHANNEL_NAME, title="Daily News", admins={ADMIN: "creator"})
        env: dict[str, str] = {
            "BOT_TOKEN": TOKEN,
            "TELEGRAM_API_URL": api.api_url,
            "CHANNEL_ID": str(CHANNEL),
            "ADMIN_IDS": str(ADMIN),
            "DATABASE_PATH": str(db_path),
            **(webhook_env() if mode == "webhook" else {}),
            **overrides,
        }
        settings = load_settings(None, **env)
        async with serving(api, settings):
            yield ChatBot(api, db_path, made, settings)


def webhook_env() -> dict[str, str]:
    """Settings for webhook mode on a free loopback port (the stand-in calls plain HTTP on loopback)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return {
        "TELEGRAM_MODE": "webhook",
        "HTTP_LISTEN": f"127.0.0.1:{port}",
        "PUBLIC_URL": f"http://127.0.0.1:{port}",
    }


@asynccontextmanager
async def serving(api: LocalBotAPI, settings: Settings) -> AsyncIterator[None]:
    """The real bot (`serve`) polling `api` until the block ends; raises what stopped it early."""
    stop = asyncio.Event()
    api.retry_delay = 0.1  # a webhook call the bot refused while starting is sent again soon
    task = asyncio.create_task(serve(settings, stop))
    try:
        await api.wait_until(
            lambda: bool(api.calls("getUpdates")) or bool(api.calls("setWebhook")) or task.done(), timeout=15
        )
        if task.done():
            task.result()  # raise what stopped the bot
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=15)
