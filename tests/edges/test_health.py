"""`GET /healthz` on the real bot: ok while everything works; 503 naming Telegram during an outage, the
queue when a post waits too long, and the database when it cannot be written."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import httpx

from bench.farm import free_port
from tests.kits.newsroomkit import Newsroom, Story, running_newsroom


async def healthz(port: int) -> tuple[int, dict[str, object]]:
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(f"http://127.0.0.1:{port}/healthz")
    return response.status_code, response.json()


async def wait_health(port: int, status: int, timeout: float = 15.0) -> dict[str, object]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        code, body = await healthz(port)
        if code == status or loop.time() > deadline:
            assert code == status, body
            return body
        await asyncio.sleep(0.2)


async def test_healthz_ok_then_failing_checks_are_named(tmp_path: Path) -> None:
    port = free_port()
    env = {"REVIEW": "off", "HTTP_LISTEN": f"127.0.0.1:{port}", "HEALTH_TELEGRAM_SECONDS": "3"}
    async with running_newsroom(tmp_path, [Story("a", "A story")], **env) as room:
        body = await wait_health(port, 200)
        assert body["status"] == "ok"
        checks = body["checks"]
        assert isinstance(checks, dict)
        assert set(checks) == {"database", "telegram", "ingest", "queue"}
        await room.api.wait_until(lambda: len(room.posts()) == 1, timeout=15)

        room.api.set_outage(True)
        body = await wait_health(port, 503)
        assert body["failing"] == ["telegram"]
        room.api.set_outage(False)
        await wait_health(port, 200)

        stale_queue(room)
        body = await wait_health(port, 503)
        assert "queue" in body["failing"]  # type: ignore[operator]


def stale_queue(room: Newsroom) -> None:
    """A post queued an hour ago in a channel that is paused for no reason the health check excuses: the
    article is re-queued to a second channel the stand-in does not know, so it can never go out."""
    with sqlite3.connect(room.db_path) as conn:
        conn.execute(
            "INSERT INTO outbox (article_id, chat_id, queued_at, not_before)"
            " SELECT id, '-1009999999999', CAST(strftime('%s', 'now') AS INTEGER) - 3600,"
            " CAST(strftime('%s', 'now') AS INTEGER) + 3600 FROM articles LIMIT 1"
        )


async def test_healthz_names_the_database_when_it_cannot_be_written(tmp_path: Path) -> None:
    port = free_port()
    env = {"REVIEW": "off", "HTTP_LISTEN": f"127.0.0.1:{port}"}
    async with running_newsroom(tmp_path, [], **env) as room:
        await wait_health(port, 200)
        blocker = sqlite3.connect(room.db_path, timeout=0)
        blocker.execute("BEGIN IMMEDIATE")  # another writer holds the lock: our probe's write times out
        try:
            body = await wait_health(port, 503, timeout=30)
            assert "database" in body["failing"]  # type: ignore[operator]
        finally:
            blocker.rollback()
            blocker.close()
        await wait_health(port, 200, timeout=30)
