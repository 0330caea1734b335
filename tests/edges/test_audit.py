"""The audit log end to end: every admin change from the chat (/addfeed, /removefeed, /addtopic,
/removetopic, /pause, /resume) and from the shell (`newsbot feeds add|remove`, `newsbot topics add|remove`)
is recorded with who and when, and listed newest first by /audit [n] (admins only) and `newsbot audit`."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

from tests.kits import DATA
from tests.kits.chatkit import ADMIN, running_bot
from tests.kits.feedserver import FeedServer

FEED = (DATA / "feeds" / "wordpress_rss20.xml").read_bytes()
WHEN = r"\d{4}-\d\d-\d\d \d\d:\d\d UTC"
ENV = {"BOT_TOKEN", "CHANNEL_ID", "ADMIN_IDS", "DATABASE_PATH", "FEEDS", "LOG_LEVEL", "PARSE_WORKERS"}


async def newsbot(db: Path, *args: str) -> tuple[int, str, str]:
    """`python -m bot ARGS` on database `db`, from its directory (no .env there)."""
    environ = {k: v for k, v in os.environ.items() if k not in ENV}
    environ.update(DATABASE_PATH=str(db), LOG_LEVEL="WARNING", PARSE_WORKERS="1", ALLOW_PRIVATE_FEEDS="true")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=db.parent,
        env=environ,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_chat_and_shell_changes_are_listed_with_who_and_when(tmp_path: Path) -> None:
    async with FeedServer() as server:
        server.route("/feed.xml", body=FEED)
        server.route("/other.xml", body=FEED)
        url = server.url("/feed.xml")
        async with running_bot(tmp_path, articles=20, ALLOW_PRIVATE_FEEDS="true", COMMAND_BURST="100") as bot:
            assert (await bot.ask("/audit", user_id=ADMIN)).text == "No admin changes yet."
            assert (await bot.ask(f"/addfeed {url}", user_id=ADMIN)).text.startswith("✅ Feed #")
            feed_id = bot.scalar("SELECT id FROM feeds WHERE url = ?", (url,))
            assert (await bot.ask(f"/removefeed {feed_id}", user_id=ADMIN)).text.startswith("🗑 Feed")
            await bot.ask("/addtopic berlin Berlin", user_id=ADMIN)
            await bot.ask("/removetopic berlin", user_id=ADMIN)
            await bot.ask("/removetopic berlin", user_id=ADMIN)  # nothing removed: nothing recorded
            await bot.ask("/pause <maintenance> & more", user_id=ADMIN)
            await bot.ask("/resume", user_id=ADMIN)
            refused = await bot.ask("/audit")  # a reader
            assert "admin" in refused.text.lower()
            assert "UTC" not in refused.text
            audit = (await bot.ask("/audit", user_id=ADMIN)).text.splitlines()
            assert (await bot.ask("/audit 2", user_id=ADMIN)).text.splitlines()[1:] == audit[1:3]
            assert (await bot.ask("/audit 2 3", user_id=ADMIN)).text.startswith("Usage: /audit")
            assert (await bot.ask("/audit 5000", user_id=ADMIN)).text.splitlines() == audit  # at most 100
        assert audit[0] == "Latest changes (newest first)"
        today = datetime.now(UTC).strftime("%Y-%m-%d")
        assert all(line.startswith(today) for line in audit[1:])
        who = f"Reader ({ADMIN})"
        assert [re.sub(f"^{WHEN} · ", "", line) for line in audit[1:]] == [
            f"{who} · resumed · all chats",
            f"{who} · paused · <maintenance> & more",
            f"{who} · topic removed · berlin",
            f"{who} · topic saved · berlin",
            f"{who} · feed removed · {feed_id} {url}",
            f"{who} · feed added · {feed_id} {url}",
        ]

        db = tmp_path / "bot.db"
        other = server.url("/other.xml")
        assert (await newsbot(db, "feeds", "add", other))[0] == 0
        assert (await newsbot(db, "feeds", "remove", other))[0] == 0
        assert (await newsbot(db, "topics", "add", "nordic", "Oslo"))[0] == 0
        assert (await newsbot(db, "topics", "remove", "nordic"))[0] == 0
        code, out, err = await newsbot(db, "audit", "-n", "5")
    assert code == 0, err
    lines = [re.sub(f"^{WHEN} · ", "", line) for line in out.splitlines()]
    assert lines[:2] == ["shell · topic removed · nordic", "shell · topic saved · nordic"]
    assert re.fullmatch(rf"shell · feed removed · \d+ {re.escape(other)}", lines[2])
    assert re.fullmatch(rf"shell · feed added · \d+ {re.escape(other)}", lines[3])
    assert lines[4] == f"{who} · resumed · all chats"
    assert (await newsbot(db, "audit", "-n", "0"))[0] == 2  # argparse's one-line refusal


async def test_newsbot_audit_on_a_fresh_database(tmp_path: Path) -> None:
    code, out, _ = await newsbot(tmp_path / "fresh.db", "audit")
    assert (code, out) == (0, "no admin changes recorded yet\n")
