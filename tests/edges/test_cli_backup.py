"""`newsbot backup PATH [--force]` in a shell (a real process on a real database), and the running bot's
daily backup into BACKUP_DIR with rotation."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import structlog

from tests.kits import ROOT
from tests.kits.chatkit import poll_until, running_bot

SUMMARY = re.compile(r"^backup written to (\S+): [\d.]+ (KiB|MiB), \d+ pages, integrity ok, [\d.]+ s$")


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


def feed_urls(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [str(row[0]) for row in conn.execute("SELECT url FROM feeds ORDER BY id")]


def add_feed_row(db_path: Path, url: str) -> None:
    with sqlite3.connect(db_path) as conn:
        conn.execute("INSERT INTO feeds (url, added_at) VALUES (?, 0)", (url,))


def test_backup_writes_a_checked_copy_and_needs_force_to_replace(tmp_path: Path) -> None:
    assert newsbot(tmp_path, "migrate").returncode == 0
    add_feed_row(tmp_path / "bot.db", "https://one.example/feed")
    target = tmp_path / "b.db"
    done = newsbot(tmp_path, "backup", str(target))
    assert done.returncode == 0, done.stderr
    match = SUMMARY.match(done.stdout.strip())
    assert match is not None, done.stdout
    assert match.group(1) == str(target)
    assert feed_urls(target) == ["https://one.example/feed"]
    with sqlite3.connect(target) as conn:  # a backup is one file: no -wal or -shm needed beside it
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)

    add_feed_row(tmp_path / "bot.db", "https://two.example/feed")
    again = newsbot(tmp_path, "backup", str(target))
    assert again.returncode != 0
    assert again.stderr.strip().count("\n") == 0
    assert "exists; choose another path or pass --force" in again.stderr
    assert feed_urls(target) == ["https://one.example/feed"]  # untouched

    forced = newsbot(tmp_path, "backup", str(target), "--force")
    assert forced.returncode == 0, forced.stderr
    assert SUMMARY.match(forced.stdout.strip())
    assert feed_urls(target) == ["https://one.example/feed", "https://two.example/feed"]
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(("b.db", ".b.db"))) == ["b.db"]


def test_bad_paths_are_one_line_and_leave_nothing(tmp_path: Path) -> None:
    assert newsbot(tmp_path, "migrate").returncode == 0
    for path, reason in (
        (tmp_path / "missing" / "b.db", "no directory"),
        (Path("/proc/newsbot-b.db"), "cannot write in /proc"),
        (tmp_path, "is a directory"),
    ):
        done = newsbot(tmp_path, "backup", str(path), "--force")
        assert done.returncode != 0
        assert done.stderr.strip().count("\n") == 0, done.stderr
        assert reason in done.stderr
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith("bot.db")] == []


async def test_the_running_bot_backs_up_daily_and_rotates(tmp_path: Path) -> None:
    backups = tmp_path / "backups"
    backups.mkdir()
    for day in ("2000-01-01", "2000-01-02", "2000-01-03"):
        (backups / f"newsbot-{day}.db").write_bytes(b"an old backup")
    today = backups / f"newsbot-{datetime.now(UTC):%Y-%m-%d}.db"
    with structlog.testing.capture_logs() as logs:
        async with running_bot(tmp_path, articles=30, BACKUP_DIR=str(backups), BACKUP_KEEP="2"):
            await poll_until(lambda: not (backups / "newsbot-2000-01-02.db").exists())
    assert sorted(p.name for p in backups.iterdir()) == ["newsbot-2000-01-03.db", today.name]
    with sqlite3.connect(today) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0] == 30
    assert [e["path"] for e in logs if e["event"] == "backup_taken"] == [str(today)]
