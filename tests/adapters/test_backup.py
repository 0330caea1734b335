"""Online backups: a copy taken while articles are being written passes integrity_check and holds what was
committed before it began; existing paths need --force; bad paths are one line and leave nothing behind;
daily backups happen once a day (a restart finds the file), rotate, and a failure is one log line."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import structlog

from bot.adapters.backup import backup
from bot.adapters.db import Database
from bot.core.errors import StorageError
from bot.services.backups import DailyBackups
from tests.kits.chatkit import poll_until
from tests.kits.outboxkit import article, store


def count(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0])


def guids(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {str(row[0]) for row in conn.execute("SELECT guid FROM articles")}


async def test_backup_taken_mid_ingest_is_whole(tmp_path: Path) -> None:
    """Articles are stored through the ingest's own write path (ArticleRepo.store, queued for the channel)
    in a loop while the backup runs: the copy passes integrity_check, holds everything committed before it
    began, is a snapshot of the database (nothing the database does not have), and the writes went on."""
    db_path = tmp_path / "bot.db"
    db = await Database(db_path).open(migrate=True)
    try:
        await store(db, [article(i, dek="x" * 2000) for i in range(3000)])  # about 13 MiB
        writing = asyncio.Event()
        committed: list[float] = []

        async def ingest() -> None:
            n = 10_000
            while not writing.is_set():
                await store(db, [article(n + i) for i in range(20)])
                committed.append(time.monotonic())
                n += 20

        writer = asyncio.create_task(ingest())
        await poll_until(lambda: len(committed) >= 3)  # the ingest is writing
        before = guids(db_path)
        started = time.monotonic()
        result = await backup(db_path, tmp_path / "copy.db")
        ended = time.monotonic()
        writing.set()
        await writer
    finally:
        await db.close()
    assert result.summary().startswith(f"backup written to {tmp_path / 'copy.db'}: ")
    assert "integrity ok" in result.summary()
    with sqlite3.connect(tmp_path / "copy.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    copied = guids(tmp_path / "copy.db")
    assert before <= copied <= guids(db_path)
    assert any(started < at < ended for at in committed)  # the bot's writes were not held up
    assert not list(tmp_path.glob("*.partial"))


async def test_existing_and_bad_paths_are_refused_in_one_line(tmp_path: Path) -> None:
    db_path = tmp_path / "bot.db"
    db = await Database(db_path).open(migrate=True)
    await db.close()
    target = tmp_path / "copy.db"
    target.write_bytes(b"precious")
    with pytest.raises(StorageError, match="exists; choose another path or pass --force"):
        await backup(db_path, target)
    assert target.read_bytes() == b"precious"
    await backup(db_path, target, force=True)
    assert count(target) == 0
    with pytest.raises(StorageError, match="no directory"):
        await backup(db_path, tmp_path / "missing" / "copy.db")
    with pytest.raises(StorageError, match="no database at"):
        await backup(tmp_path / "nope.db", tmp_path / "x.db")
    with pytest.raises(StorageError, match="no directory"):
        await backup(db_path, target / "copy.db")  # a file is no directory
    with pytest.raises(StorageError, match="cannot write in /proc"):
        await backup(db_path, Path("/proc/newsbot-copy.db"))  # no one may create files there, root included
    with pytest.raises(StorageError, match="is a directory"):
        await backup(db_path, tmp_path, force=True)
    assert not list(tmp_path.rglob("*.partial"))


async def test_daily_backups_once_a_day_and_rotated(tmp_path: Path) -> None:
    db_path = tmp_path / "bot.db"
    db = await Database(db_path).open(migrate=True)
    await db.close()
    now = [datetime(2026, 12, 1, 3, 0, tzinfo=UTC)]
    (tmp_path / "backups").mkdir()
    (tmp_path / "backups" / "notes.txt").write_text("the operator's own file")
    daily = DailyBackups(db_path, tmp_path / "backups", 2, backup, clock=lambda: now[0])
    assert (await daily.step()) == tmp_path / "backups" / "newsbot-2026-12-01.db"
    assert await daily.step() is None  # the same day, or a restart: no second one
    again = DailyBackups(db_path, tmp_path / "backups", 2, backup, clock=lambda: now[0])
    assert await again.step() is None
    for _ in range(2):
        now[0] += timedelta(days=1)
        await daily.step()
    assert [p.name for p in daily.existing()] == ["newsbot-2026-12-02.db", "newsbot-2026-12-03.db"]
    assert (tmp_path / "backups" / "notes.txt").exists()  # rotation deletes only its own files


async def test_daily_backup_failure_is_logged_in_one_line_and_retried(tmp_path: Path) -> None:
    db_path = tmp_path / "bot.db"
    db = await Database(db_path).open(migrate=True)
    await db.close()
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    daily = DailyBackups(
        db_path, blocker / "backups", 2, backup, clock=lambda: datetime(2026, 12, 1, tzinfo=UTC)
    )
    with structlog.testing.capture_logs() as logs:
        assert await daily.step() is None
    [failed] = [e for e in logs if e["event"] == "backup_failed"]
    assert failed["log_level"] == "warning"
    assert "\n" not in failed["error"]
    blocker.unlink()
    assert await daily.step() == blocker / "backups" / "newsbot-2026-12-01.db"
