"""The ingest loop in its own niced process: it stores, tells the bot what it queued, wakes, stops."""

from __future__ import annotations

import asyncio
import inspect
import multiprocessing
import os
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from bot.adapters.db import Database
from bot.adapters.repo_feeds import FeedRepo
from bot.edges.ingest_process import NICENESS, IngestProcess
from bot.edges.ingest_wiring import open_child_ingest
from bot.settings import Settings, load_settings
from tests.kits.feedserver import FeedServer

NOW = datetime.now(UTC)


def rss(prefix: str, n: int) -> bytes:
    items = "".join(
        f"<item><title>{prefix} story {i}</title><link>https://site.example/{prefix}/{i}</link>"
        f"<description>About {prefix} story {i}.</description>"
        f"<pubDate>{format_datetime(NOW - timedelta(minutes=i))}</pubDate></item>"
        for i in range(n)
    )
    return f'<rss version="2.0"><channel><title>{prefix}</title>{items}</channel></rss>'.encode()


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    async with FeedServer() as srv:
        yield srv


async def bot_settings(server: FeedServer, tmp_path: Path, **extra: str) -> tuple[Path, Settings]:
    """A migrated database file and settings reading /a.xml from `server` into it."""
    db_path = tmp_path / "bot.db"
    await (await Database(db_path).open(migrate=True)).close()
    settings = load_settings(
        None,
        BOT_TOKEN="123:SECRET-token-for-ingest-process",
        DATABASE_PATH=str(db_path),
        FEEDS=server.url("/a.xml"),
        ALLOW_PRIVATE_FEEDS="true",
        CHANNEL_ID="@newsbot_test",
        **extra,
    )
    return db_path, settings


async def count(db_path: Path, sql: str) -> int:
    db = await Database(db_path).open(migrate=False, read_only=True)
    try:
        row = await db.fetchone(sql)
        return int(row[0]) if row else 0
    finally:
        await db.close()


async def until(check: Callable[[], bool | Awaitable[bool]], timeout: float = 20.0) -> None:
    """Poll `check` (plain or async) every 0.1 s until it is true; AssertionError after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if await result if inspect.isawaitable(result) else result:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("timed out")


async def test_child_ingests_reports_queued_posts_wakes_and_stops(server: FeedServer, tmp_path: Path) -> None:
    server.route("/a.xml", rss("alpha", 5))
    server.route("/b.xml", rss("beta", 4))
    db_path, settings = await bot_settings(server, tmp_path, POLL_INTERVAL_SECONDS="3600")
    queued: list[int] = []
    child = IngestProcess(settings, open_child_ingest, on_queued=[lambda: queued.append(1)])
    stop = asyncio.Event()
    task = asyncio.create_task(child.loop(None, stop))
    try:
        await until(lambda: _ge(db_path, "SELECT count(*) FROM articles", 5))
        await until(lambda: bool(queued))  # the first sync backfills up to 3 posts: the bot hears
        pids = _children()
        assert pids, "no child process"
        assert any(
            os.getpriority(os.PRIO_PROCESS, pid) >= os.getpriority(os.PRIO_PROCESS, 0) + NICENESS
            for pid in pids
        )
        # A feed added by the bot (an admin's /addfeed) is read at once, not after the hour's poll.
        feeds_db = await Database(db_path).open(migrate=False)
        try:
            await FeedRepo(feeds_db).add(server.url("/b.xml"), datetime.now(UTC))
        finally:
            await feeds_db.close()
        child.wake()
        await until(lambda: _ge(db_path, "SELECT count(*) FROM articles", 9), timeout=10)
    finally:
        stop.set()
        started = time.monotonic()
        await asyncio.wait_for(task, timeout=10)
    assert time.monotonic() - started < 5
    assert not _children()


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGKILL, -9), (signal.SIGTERM, 0)])
async def test_a_child_that_ends_is_reported_to_the_supervisor(
    server: FeedServer, tmp_path: Path, signum: signal.Signals, code: int
) -> None:
    """Killed, or stopped by SIGTERM (which it takes as a clean stop): the bot's supervisor restarts it."""
    server.route("/a.xml", rss("alpha", 2))
    db_path, settings = await bot_settings(server, tmp_path)
    child = IngestProcess(settings, open_child_ingest, on_queued=[])
    task = asyncio.create_task(child.loop(None, asyncio.Event()))
    await until(lambda: _ge(db_path, "SELECT count(*) FROM articles", 2))
    for pid in _children():
        os.kill(pid, signum)
    with pytest.raises(RuntimeError, match=f"ingest process exited with code {code}$"):
        await asyncio.wait_for(task, timeout=10)


async def _ge(db_path: Path, sql: str, n: int) -> bool:
    return await count(db_path, sql) >= n


def _children() -> list[int]:
    """Live processes named newsbot-ingest among this test process's children."""
    return [p.pid for p in multiprocessing.active_children() if p.name == "newsbot-ingest" and p.pid]
