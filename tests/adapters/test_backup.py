"""Online backups: a copy taken while articles are being written passes integrity_check and holds what was
committed before it began; existing paths need --force; bad paths are one line and leave nothing behind;
daily backups happen once a day and rotate."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.adapters.backup import backup
from bot.adapters.db import Database
from bot.core.errors import StorageError
from bot.services.backups import DailyBackups
from tests.kits import ROOT
from tests.kits.outboxkit import article, store


def count(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0])


async def test_backup_taken_mid_ingest_is_whole(tmp_path: Path) -> None:
    db_path = tmp_path / "bot.db"
    db = await Database(db_path).open(migrate=True)
    try:
        await store(db, [article(i, dek="x" * 2000) for i in range(3000)])  # a few MiB
        before = count(db_path)
        writing = asyncio.Event()

        async def ingest() -> None:
            n = 10_000
            while not writing.is_set():
                await store(db, [article(n + i) for i in range(20)])
                n += 20
                await asyncio.sleep(0)

        writer = asyncio.create_task(ingest())
        await asyncio.sleep(0.05)
        result = await backup(db_path, tmp_path / "copy.db")
        writing.set()
        await writer
    finally:
        await db.close()
    assert result.summary().startswith(f"backup written to {tmp_path / 'copy.db'}: ")
    assert "integrity ok" in result.summary()
    with sqlite3.connect(tmp_path / "copy.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert count(tmp_path / "copy.db") >= before
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
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if not (locked / "probe").parent.stat().st_mode & 0o200 and __import__("os").geteuid() != 0:
            with pytest.raises(StorageError, match="cannot write in"):
                await backup(db_path, locked / "copy.db")
    finally:
        locked.chmod(0o700)
    assert not list(tmp_path.rglob("*.partial"))


async def test_daily_backups_once_a_day_and_rotated(tmp_path: Path) -> None:
    db_path = tmp_path / "bot.db"
    db = await Database(db_path).open(migrate=True)
    await db.close()
    now = [datetime(2026, 12, 1, 3, 0, tzinfo=UTC)]
    daily = DailyBackups(db_path, tmp_path / "backups", 2, backup, clock=lambda: now[0])
    assert (await daily.step()) == tmp_path / "backups" / "newsbot-2026-12-01.db"
    assert await daily.step() is None  # the same day, or a restart: no second one
    again = DailyBackups(db_path, tmp_path / "backups", 2, backup, clock=lambda: now[0])
    assert await again.step() is None
    for _ in range(2):
        now[0] += timedelta(days=1)
        await daily.step()
    assert [p.name for p in daily.existing()] == ["newsbot-2026-12-02.db", "newsbot-2026-12-03.db"]


def newsbot(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"DATABASE_PATH": str(tmp_path / "bot.db"), "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=env,
        cwd=ROOT,
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_newsbot_backup_command(tmp_path: Path) -> None:
    assert newsbot(tmp_path, "migrate").returncode == 0
    done = newsbot(tmp_path, "backup", str(tmp_path / "b.db"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"backup written to {tmp_path / 'b.db'}")
    again = newsbot(tmp_path, "backup", str(tmp_path / "b.db"))
    assert again.returncode != 0
    assert len(again.stderr.strip().splitlines()) == 1
    assert "exists; choose another path or pass --force" in again.stderr
