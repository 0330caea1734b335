"""Migrations: fresh database, upgrade from every earlier version, rollback on failure, newer DB refused."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from pathlib import Path

import pytest

from bot.adapters.db import MIGRATIONS_DIR, Database, load_migrations
from bot.core.errors import StorageError


def _tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table','index')")}


async def test_fresh_database_reaches_latest(tmp_path: Path) -> None:
    latest = len(load_migrations())
    async with Database(tmp_path / "n.db") as db:
        assert await db.user_version() == latest
        for pragma, expected in (("journal_mode", "wal"), ("foreign_keys", 1), ("busy_timeout", 5000)):
            row = await db.fetchone(f"PRAGMA {pragma}")
            assert row is not None
            assert row[0] == expected, pragma
    assert {"feeds", "articles", "outbox", "topics", "subscriptions"} <= _tables(tmp_path / "n.db")


@pytest.mark.parametrize("start", range(len(load_migrations())))
async def test_upgrade_from_each_earlier_version(tmp_path: Path, start: int) -> None:
    partial = tmp_path / "partial"
    partial.mkdir()
    for m in sorted(MIGRATIONS_DIR.glob("*.sql"))[:start]:
        shutil.copy(m, partial / m.name)
    path = tmp_path / "n.db"
    async with Database(path, migrations_dir=partial) as db:
        assert await db.user_version() == start
    # data written at the old version survives the upgrade
    if start >= 1:
        with sqlite3.connect(path) as conn:
            conn.execute("INSERT INTO feeds (url, added_at) VALUES ('https://x.example/feed', 1)")
    async with Database(path) as db:
        applied_version = await db.user_version()
        assert applied_version == len(load_migrations())
        if start >= 1:
            row = await db.fetchone("SELECT url FROM feeds")
            assert row is not None
            assert row[0] == "https://x.example/feed"
    fresh = tmp_path / "fresh.db"
    async with Database(fresh):
        pass
    assert _tables(path) == _tables(fresh)


async def test_failed_migration_rolls_back(tmp_path: Path) -> None:
    mdir = tmp_path / "m"
    mdir.mkdir()
    for m in sorted(MIGRATIONS_DIR.glob("*.sql")):
        shutil.copy(m, mdir / m.name)
    n = len(load_migrations()) + 1
    (mdir / f"{n:04d}_broken.sql").write_text(
        "BEGIN;\nCREATE TABLE half_done (x);\nINSERT INTO no_such_table VALUES (1);\n"
        f"PRAGMA user_version = {n};\nCOMMIT;\n"
    )
    path = tmp_path / "n.db"
    db = Database(path, migrations_dir=mdir)
    with pytest.raises(StorageError, match="broken failed"):
        await db.open()
    await db.close()
    assert "half_done" not in _tables(path)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == n - 1


async def test_newer_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "n.db"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 99")
    db = Database(path)
    with pytest.raises(StorageError, match="schema version 99"):
        await db.open()
    await db.close()


async def test_concurrent_transactions_do_not_share(tmp_path: Path) -> None:
    async with Database(tmp_path / "n.db") as db:

        async def good(i: int) -> None:
            async with db.transaction() as conn:
                await conn.execute(
                    "INSERT INTO feeds (url, added_at) VALUES (?, 1)", (f"https://ok{i}.example/",)
                )
                await asyncio.sleep(0)

        async def bad() -> None:
            async with db.transaction() as conn:
                await conn.execute("INSERT INTO feeds (url, added_at) VALUES ('https://bad.example/', 1)")
                await asyncio.sleep(0)
                raise RuntimeError("boom")

        results = await asyncio.gather(*(good(i) for i in range(5)), bad(), return_exceptions=True)
        assert sum(isinstance(r, RuntimeError) for r in results) == 1
        rows = await db.fetchall("SELECT url FROM feeds ORDER BY url")
        assert [r[0] for r in rows] == [f"https://ok{i}.example/" for i in range(5)]


async def test_read_only_connection_reads_while_writer_holds_a_transaction(tmp_path: Path) -> None:
    path = tmp_path / "n.db"
    async with Database(path) as writer:
        await writer.execute_write("INSERT INTO feeds (url, added_at) VALUES ('https://a.example/', 1)")
        reader = await Database(path).open(migrate=False, read_only=True)
        try:
            async with writer.transaction() as conn:
                await conn.execute("INSERT INTO feeds (url, added_at) VALUES ('https://b.example/', 1)")
                rows = await reader.fetchall("SELECT url FROM feeds")  # not blocked by the open write
                assert [r[0] for r in rows] == ["https://a.example/"]
            with pytest.raises(sqlite3.OperationalError, match="readonly"):
                await reader.conn.execute("DELETE FROM feeds")
        finally:
            await reader.close()


async def test_a_cancelled_write_never_leaves_the_connection_in_a_transaction(tmp_path: Path) -> None:
    """A caller cancelled while BEGIN IMMEDIATE waits for another writer's lock: the BEGIN runs on in the
    connection's thread; it must be rolled back, or every later write fails."""
    db = await Database(tmp_path / "t.db").open(migrate=True)
    blocker = sqlite3.connect(tmp_path / "t.db", timeout=0)
    try:
        blocker.execute("BEGIN IMMEDIATE")

        async def write() -> None:
            async with db.transaction() as conn:
                await conn.execute("INSERT INTO bot_state (key, value) VALUES ('a', '1')")

        with pytest.raises(TimeoutError):
            await asyncio.wait_for(write(), timeout=0.3)
        blocker.rollback()
        await asyncio.sleep(0.2)
        await db.execute_write("INSERT INTO bot_state (key, value) VALUES ('b', '2')")
        assert [r[0] for r in await db.fetchall("SELECT key FROM bot_state ORDER BY key")] == ["b"]
    finally:
        blocker.close()
        await db.close()
