"""Admins' commands end to end (the real Application, the local Bot API, a real database), the refusal of
everyone else, and the shell twin `newsbot topics`."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import structlog

from bot.adapters.db import Database
from bot.adapters.repo_topics import TopicRepo
from bot.edges.cli import build_parser
from bot.edges.cli_topics import cmd_topics
from bot.settings import load_settings
from tests.kits import DATA
from tests.kits.articlefactory import fill_articles
from tests.kits.chatkit import ADMIN, READER, ChatBot, bullet_lines, links, running_bot
from tests.kits.feedserver import FeedServer

FEED = (DATA / "feeds" / "wordpress_rss20.xml").read_bytes()


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[ChatBot]:
    async with running_bot(tmp_path, COMMAND_BURST="100") as chat:
        yield chat


def _state(bot: ChatBot) -> tuple[object, ...]:
    return (
        bot.query("SELECT * FROM topics ORDER BY id"),
        bot.query("SELECT id, url, enabled FROM feeds ORDER BY id"),
        bot.query("SELECT * FROM channels"),
        bot.scalar("SELECT COUNT(*) FROM article_topics"),
    )


async def test_non_admins_are_refused_politely_and_nothing_changes(bot: ChatBot) -> None:
    before = _state(bot)
    commands = [
        "/addtopic berlin Berlin",
        "/removetopic tech",
        "/deltopic tech",
        "/addfeed https://example.com/feed",
        "/removefeed 1",
        "/delfeed 1",
        "/feeds",
        "/status",
        "/pause",
        "/resume",
    ]
    with structlog.testing.capture_logs() as logs:
        for text in commands:
            name = text.split()[0][1:]
            reply = await bot.ask(text)
            assert reply.text == f"Sorry, /{name} is only for the bot's admins. /help lists what you can do."
    assert _state(bot) == before
    refused = [e for e in logs if e["event"] == "admin_command_refused"]
    assert [e["command"] for e in refused] == [t.split()[0][1:] for t in commands]
    assert all(e["user_id"] == READER for e in refused)


async def test_addtopic_retags_at_once_and_topic_shows_rules_to_admins(bot: ChatBot) -> None:
    saved = await bot.ask(
        "/addtopic berlin Berlin, Brandenburg Gate #Hauptstadt | News from Berlin", user_id=ADMIN
    )
    rows = bot.query("SELECT id, headline, dek FROM articles")
    expected = {r[0] for r in rows if re.search(r"\bberlin\b", f"{r[1]} {r[2]}", re.IGNORECASE)}
    assert expected
    assert saved.text.startswith(f"✅ Topic berlin added; {len(expected)} recent article(s) match it.")
    assert "Keywords: Berlin, Brandenburg Gate" in saved.text
    tagged = bot.query(
        "SELECT article_id FROM article_topics WHERE topic_id = (SELECT id FROM topics WHERE name = 'berlin')"
    )
    assert {r[0] for r in tagged} == expected
    # a reader sees the topic and its articles straight away, without rules
    listing = await bot.ask("/topics")
    assert "• berlin — News from Berlin" in listing.text
    reader_view = await bot.ask("/topic berlin")
    assert len(links(reader_view)) == 5
    assert all("Berlin" in line for line in bullet_lines(reader_view))
    assert "Keywords" not in reader_view.text
    admin_view = await bot.ask("/topic berlin 2", user_id=ADMIN)
    assert "Keywords: Berlin, Brandenburg Gate\nCategories: Hauptstadt\n" in admin_view.text
    assert f"Tagged articles: {len(expected)} · subscribers: 0" in admin_view.text
    assert len(links(admin_view)) == 2
    # changing the rules re-tags: Paris stories replace Berlin ones
    changed = await bot.ask("/addtopic Berlin Paris", user_id=ADMIN)
    assert changed.text.startswith("✅ Topic Berlin updated;")
    after = await bot.ask("/topic berlin")
    assert all("Paris" in line for line in bullet_lines(after))
    removed = await bot.ask("/deltopic berlin", user_id=ADMIN)
    assert removed.text == "🗑 Topic berlin removed, with its tags and subscriptions."
    again = await bot.ask("/removetopic berlin", user_id=ADMIN)
    assert again.text == "There is no topic berlin; nothing was removed. See /topics."
    assert bot.scalar("SELECT COUNT(*) FROM topics WHERE name = 'berlin'") == 0


async def test_addtopic_bad_arguments(bot: ChatBot) -> None:
    cases = {
        "/addtopic": "Usage: /addtopic <name> <keyword>, <keyword>, …",
        "/addtopic lonely": "Give at least one keyword or #category.",
        "/addtopic <b>x</b> kw": "“<b>x</b>” is not a topic name",
        "/addtopic t kw @no": "“@no” is not a channel",
        "/addtopic t " + "k" * 70: "A keyword is over 64 characters",
        "/addtopic t " + "x" * 300: "That is too long",
        "/addtopic t '); DROP TABLE topics; --": "✅ Topic t added;",  # just a keyword phrase
    }
    for text, expected in cases.items():
        reply = await bot.ask(text, user_id=ADMIN)
        assert reply.text.startswith(expected), (text, reply.text)
    assert bot.scalar("SELECT keywords FROM topics WHERE name = 't'") == '["\'); DROP TABLE topics; --"]'


async def test_feeds_and_status(bot: ChatBot) -> None:
    feeds = await bot.ask("/feeds", user_id=ADMIN)
    assert feeds.text.startswith("📡 Feeds: 8")
    counts = [int(m) for m in re.findall(r"· (\d+) article\(s\)", feeds.text)]
    assert sum(counts) == bot.scalar("SELECT COUNT(*) FROM articles")
    assert "fetched 5m ago" in feeds.text or "fetched 4m ago" in feeds.text
    await bot.write(
        "UPDATE feeds SET last_error = 'HTTP 503 <Service Unavailable>', error_count = 4 WHERE id = 3"
    )
    failing = await bot.ask("/feeds", user_id=ADMIN)
    assert failing.text.startswith("📡 Feeds: 8, 1 failing")
    assert "⚠ HTTP 503 <Service Unavailable> (failed 4×)" in failing.text
    status = await bot.ask("/status", user_id=ADMIN)
    assert "Feeds: 8 (8 enabled, 1 failing)" in status.text
    assert f"Articles stored: {bot.scalar('SELECT COUNT(*) FROM articles')}" in status.text
    assert "Channel posts today (UTC): 0" in status.text
    assert "Subscription messages: 0 queued · 0 sent · 0 failed" in status.text
    assert "Groups: in 0 · 0 topic subscriptions" in status.text
    assert "#3 Le Quotidien: HTTP 503 <Service Unavailable>" in status.text


async def test_pause_and_resume(bot: ChatBot) -> None:
    paused = await bot.ask("/pause server move", user_id=ADMIN)
    assert paused.text == "⏸ Posting to the channel is paused (server move). /resume starts it again."
    status = await bot.ask("/status", user_id=ADMIN)
    assert "Posting paused everywhere: server move" in status.text
    resumed = await bot.ask("/resume", user_id=ADMIN)
    assert resumed.text.startswith("▶ Posting resumed.")
    assert (await bot.ask("/resume", user_id=ADMIN)).text == "▶ Posting was not paused; nothing to resume."
    assert "paused" not in (await bot.ask("/status", user_id=ADMIN)).text.lower()


async def test_addfeed_refuses_private_addresses(bot: ChatBot) -> None:
    async with FeedServer() as server:
        server.route("/feed.xml", body=FEED)
        for url, expected in [
            (server.url("/feed.xml"), "127.0.0.1 is a private or local address"),
            ("http://localhost:8080/feed", "localhost is a local address"),
            ("http://[::1]/feed", "::1 is a private or local address"),
            ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a private or local address"),
            ("http://printer.local/feed", "printer.local is a local address"),
            ("ftp://example.com/feed", "Only http:// and https:// addresses can be feeds."),
            ("javascript:alert(1)", "Only http:// and https:// addresses can be feeds."),
        ]:
            reply = await bot.ask(f"/addfeed {url}", user_id=ADMIN)
            assert reply.text.startswith(expected), (url, reply.text)
        assert server.requests == []  # the bot never probed the address
    assert bot.scalar("SELECT COUNT(*) FROM feeds") == 8
    usage = await bot.ask("/addfeed", user_id=ADMIN)
    assert usage.text.startswith("Usage: /addfeed <url>")


async def test_addfeed_and_removefeed_when_private_feeds_are_allowed(tmp_path: Path) -> None:
    async with FeedServer() as server, running_bot(tmp_path, articles=40, ALLOW_PRIVATE_FEEDS="true") as bot:
        server.route("/feed.xml", body=FEED)
        url = server.url("/feed.xml")
        added = await bot.ask(f"/addfeed {url}", user_id=ADMIN)
        feed_id = bot.scalar("SELECT id FROM feeds WHERE url = ?", (url,))
        assert added.text.startswith(f"✅ Feed #{feed_id} added:")
        assert url in added.text
        # read at once by the ingest process (woken through its pipe), not at the next poll in 120 s
        deadline = asyncio.get_running_loop().time() + 15
        while not bot.scalar("SELECT COUNT(*) FROM articles WHERE feed_id = ?", (feed_id,)):
            assert asyncio.get_running_loop().time() < deadline, "the added feed was not read"
            await asyncio.sleep(0.1)
        again = await bot.ask(f"/addfeed {url}", user_id=ADMIN)
        assert again.text.startswith(f"That feed is already there: #{feed_id}")
        missing = await bot.ask(f"/addfeed {server.url('/nothing.xml')}", user_id=ADMIN)
        assert missing.text.startswith("Could not add that feed:")
        removed = await bot.ask(f"/removefeed #{feed_id}", user_id=ADMIN)
        assert removed.text.startswith(f"🗑 Feed #{feed_id} removed:")
        assert (
            await bot.ask(f"/delfeed {feed_id}", user_id=ADMIN)
        ).text == f"There is no feed {feed_id}; see /feeds."
        assert bot.scalar("SELECT COUNT(*) FROM feeds WHERE url = ?", (url,)) == 0
        bad = await bot.ask("/removefeed gopher://x", user_id=ADMIN)
        assert bad.text.startswith("Send a feed id from /feeds or an http(s) URL.")


async def test_shell_topics_add_list_remove(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "shell.db"
    fill_articles(path, 300, now=datetime.now(UTC), span=timedelta(days=10))
    settings = load_settings(None, DATABASE_PATH=str(path))
    parser = build_parser()
    args = parser.parse_args(
        [
            "topics",
            "add",
            "nordic",
            "Oslo",
            "Reykjavík",
            "--category",
            "Nordics",
            "--description",
            "The North",
        ]
    )
    assert await cmd_topics(settings, args) == 0
    out = capsys.readouterr().out
    assert re.search(r"^topic nordic added; [1-9]\d* recent article\(s\) match it$", out, re.MULTILINE)
    db = await Database(path).open()
    try:
        stored = await TopicRepo(db).get("nordic")
        assert stored is not None
        assert stored.topic.keywords == ("Oslo", "Reykjavík")
        assert stored.topic.categories == ("Nordics",)
        assert await TopicRepo(db).article_count(stored.id) > 0
    finally:
        await db.close()
    assert await cmd_topics(settings, parser.parse_args(["topics", "list"])) == 0
    listing = capsys.readouterr().out
    assert "nordic:" in listing
    assert "  keywords: Oslo, Reykjavík" in listing
    assert "  description: The North" in listing
    assert await cmd_topics(settings, parser.parse_args(["topics", "remove", "nordic"])) == 0
    assert await cmd_topics(settings, parser.parse_args(["topics", "remove", "nordic"])) == 1
    assert "no topic called 'nordic'" in capsys.readouterr().err
