"""`newsbot feeds|ingest|preview` run as real subprocesses against feeds served on loopback."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sqlite3
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.core.render import render_post
from bot.settings import DEFAULT_TEMPLATE
from tests.kits.feedserver import HTML_TYPE, FeedServer
from tests.kits.ingestkit import DATA

SUMMARY = re.compile(
    r"^fetched (\d+) feeds: (\d+) not modified, (\d+) failed, (\d+) new articles, (\d+) updated"
    r" in \d+\.\d\d s$"
)
SETTINGS = {
    "BOT_TOKEN",
    "CHANNEL_ID",
    "ADMIN_IDS",
    "DATABASE_PATH",
    "FEEDS",
    "POLL_INTERVAL_SECONDS",
    "LOG_LEVEL",
    "LOG_FORMAT",
    "POST_TEMPLATE",
    "FETCH_TIMEOUT_SECONDS",
    "MAX_FEED_BYTES",
    "PARSE_WORKERS",
}


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    async with FeedServer() as srv:
        srv.route("/wp.xml", (DATA / "wordpress.xml").read_bytes(), etag='"wp1"')
        srv.route("/broken.xml", "down for maintenance", status=500)
        yield srv


async def newsbot(tmp_path: Path, *args: str, **env: str) -> tuple[int, str, str]:
    """Run `python -m bot ARGS` in `tmp_path` (no .env there); returns (exit code, stdout, stderr)."""
    environ = {k: v for k, v in os.environ.items() if k not in SETTINGS}
    environ.update(DATABASE_PATH=str(tmp_path / "news.db"), LOG_LEVEL="WARNING", PARSE_WORKERS="1", **env)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=tmp_path,
        env=environ,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def stored(tmp_path: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(tmp_path / "news.db") as conn:
        return list(conn.execute("SELECT url, headline FROM articles ORDER BY id"))


async def test_ingest_once_prints_one_summary_line(tmp_path: Path, server: FeedServer) -> None:
    feeds = f"{server.url('/wp.xml')},{server.url('/broken.xml')}"
    code, out, err = await newsbot(tmp_path, "ingest", "--once", FEEDS=feeds)
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == 1
    match = SUMMARY.match(lines[0])
    assert match is not None, lines[0]
    assert match.groups() == ("2", "0", "1", "2", "0")
    assert [headline for _, headline in stored(tmp_path)] == [
        "Council approves ‘harbour wall’ repairs after storm damage",
        "School’s robotics team heads to national final",
    ]
    code, out, _ = await newsbot(tmp_path, "ingest", "--once", FEEDS=feeds)
    match = SUMMARY.match(out.strip())
    assert match is not None
    assert match.groups() == ("2", "1", "1", "0", "0")  # the second run is a 304
    assert server.requests_to("/wp.xml")[-1].headers["If-None-Match"] == '"wp1"'
    code, out, _ = await newsbot(tmp_path, "feeds", "list")
    assert code == 0
    listed = out.splitlines()
    assert len(listed) == 2
    assert server.url("/wp.xml") in listed[0]
    assert "Harbour Town Gazette" in listed[0]
    assert "; polled every 1 h]" in listed[0]  # adaptive: its newest entry is long past
    assert "HTTP 500 Internal Server Error" in listed[1]
    assert "; polled]" in listed[1]  # never read: no interval yet


async def test_preview_json_prints_the_exact_message(tmp_path: Path, server: FeedServer) -> None:
    code, out, err = await newsbot(tmp_path, "preview", server.url("/wp.xml"), "--json")
    assert code == 0, err
    entries = [json.loads(line) for line in out.splitlines()]
    assert len(entries) == 2
    first = entries[0]
    assert {"headline", "dek", "url", "published", "categories", "image", "message"} <= set(first)
    assert first["headline"] == "Council approves ‘harbour wall’ repairs after storm damage"
    assert first["url"] == "https://gazette.example/2024/05/01/council-approves-harbour-wall-repairs/"
    assert first["published"] == "2024-05-01T09:00:00+00:00"
    assert first["categories"] == ["Local", "Arts & Culture"]
    assert first["image"] == "https://gazette.example/wp-content/uploads/2024/05/wall.jpg"
    for entry in entries:
        assert entry["message"] == render_post(
            headline=entry["headline"],
            dek=entry["dek"],
            url=entry["url"],
            source="Harbour Town Gazette",
            categories=entry["categories"],
            template=DEFAULT_TEMPLATE,
        )
    assert first["message"].startswith(
        "<b>Council approves ‘harbour wall’ repairs after storm damage</b>\n\n"
    )
    assert '<a href="https://gazette.example/2024/05/01/council-approves' in first["message"]
    assert not (tmp_path / "news.db").exists()  # a preview touches no database


async def test_preview_plain_and_of_pages(tmp_path: Path, server: FeedServer) -> None:
    home = '<html><head><link rel="alternate" type="application/rss+xml" href="/wp.xml"></head></html>'
    article = (
        '<html><head><meta property="og:title" content="Ferry &amp; bus strike called off">'
        '<meta property="og:description" content="Unions accepted the offer late on Tuesday.">'
        '<meta property="og:site_name" content="Harbour Town Gazette">'
        '<link rel="canonical" href="https://gazette.example/2024/05/strike?utm_source=x"></head></html>'
    )
    server.route("/home", home, content_type=HTML_TYPE)
    server.route("/article", article, content_type=HTML_TYPE)
    (code, out, err), (code2, out2, err2) = await asyncio.gather(
        newsbot(tmp_path, "preview", server.url("/home")),
        newsbot(tmp_path, "preview", server.url("/article"), "--json"),
    )
    assert code == 0, err
    assert out.startswith(f"2 entries from {server.url('/wp.xml')}\n")
    assert "[1] Council approves ‘harbour wall’ repairs after storm damage" in out
    assert "    published:  2024-05-01T09:00:00+00:00" in out
    assert "      <b>School’s robotics team heads to national final</b>" in out
    assert code2 == 0, err2
    (page,) = [json.loads(line) for line in out2.splitlines()]
    assert page["headline"] == "Ferry & bus strike called off"
    assert page["dek"] == "Unions accepted the offer late on Tuesday."
    assert page["url"] == "https://gazette.example/2024/05/strike"
    assert page["published"] is None
    assert "<b>Ferry &amp; bus strike called off</b>" in page["message"]


@pytest.mark.parametrize(
    ("path", "error"),
    [
        ("/broken.xml", "HTTP 500 Internal Server Error"),
        ("/words", "not a feed"),
        ("/blank-page", "not a feed, and the page links no feed and has no title"),
        ("/missing", "HTTP 404 Not Found"),
    ],
)
async def test_preview_failures_are_one_line(
    tmp_path: Path, server: FeedServer, path: str, error: str
) -> None:
    server.route("/words", "hello there", content_type="text/plain")
    server.route("/blank-page", "<!doctype html><html><body>nothing</body></html>", content_type=HTML_TYPE)
    code, out, err = await newsbot(tmp_path, "preview", server.url(path), "--json")
    assert code != 0
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith(f"newsbot: error: {server.url(path)}: ")
    assert error in err
    assert "Traceback" not in err


async def test_feeds_add_list_remove(tmp_path: Path, server: FeedServer) -> None:
    home = '<html><head><link rel="alternate" type="application/rss+xml" href="/wp.xml"></head></html>'
    server.route("/", home, content_type=HTML_TYPE)
    code, out, err = await newsbot(tmp_path, "feeds", "add", server.url("/"))
    assert code == 0, err
    assert out.strip() == f"added feed 1: {server.url('/wp.xml')} (Harbour Town Gazette)"
    code, _, err = await newsbot(tmp_path, "feeds", "add", server.url("/wp.xml"))
    assert code == 2
    assert err.strip() == f"newsbot: error: feed already added: {server.url('/wp.xml')} (id 1)"
    code, _, err = await newsbot(tmp_path, "feeds", "add", "file:///etc/passwd")
    assert code == 2
    assert "only http and https" in err
    assert "Traceback" not in err
    code, out, _ = await newsbot(tmp_path, "feeds", "remove", "7")
    assert code == 2
    code, out, err = await newsbot(tmp_path, "feeds", "remove", "1")
    assert code == 0, err
    assert out.strip() == f"removed feed 1: {server.url('/wp.xml')}"
    code, out, _ = await newsbot(tmp_path, "feeds", "list")
    assert out.strip() == "no feeds yet: `newsbot feeds add URL` or set FEEDS"
