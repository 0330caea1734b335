"""`newsbot sandbox` without a browser: sample feeds parse, the sites and the page's API answer, it posts."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import sqlite3
import struct
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from aiohttp import web

from bot.core.feedparse import parse_feed
from bot.core.normalise import normalise_entry
from bot.core.pagemeta import discover_feeds, page_meta
from bot.sandbox.controls import first_link
from bot.sandbox.feeds import CONTENT_TYPES, RENDERERS, Newsroom
from bot.sandbox.run import SANDBOX_CHANNEL_ID, SandboxOptions, _bind, run_sandbox
from bot.sandbox.site import add_site_routes, placeholder_png, preview_for
from bot.sandbox.stories import PUBLICATIONS, STORIES, Publication
from bot.settings import load_settings

NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
BASE = "http://127.0.0.1:8080"
ENV = (
    *("BOT_TOKEN", "TELEGRAM_API_URL", "CHANNEL_ID", "ADMIN_IDS", "DATABASE_PATH", "FEEDS", "LOG_LEVEL"),
    *("POLL_INTERVAL_SECONDS", "LOG_FORMAT", "POST_TEMPLATE", "LINK_PREVIEW", "POSTS_PER_MINUTE"),
    "BACKFILL_MAX_POSTS",
)


def test_story_pool_is_large_and_unique() -> None:
    assert len(STORIES) >= 40
    assert len({s.headline for s in STORIES}) == len(STORIES)
    for pub in PUBLICATIONS:
        assert sum(s.publication == pub.key for s in STORIES) >= 10


@pytest.mark.parametrize("pub", PUBLICATIONS, ids=lambda p: p.key)
def test_sample_feeds_parse_and_normalise(pub: Publication) -> None:
    newsroom = Newsroom(now=NOW, backfill=6, seed=7)
    key = pub.key
    url = f"{BASE}/{key}/{pub.feed_path}"
    body = RENDERERS[pub.format](pub, newsroom.items[key], BASE, NOW)
    parsed = parse_feed(body, url=url, content_type=CONTENT_TYPES[pub.format])
    assert parsed.format == {"rss": "rss20", "atom": "atom10", "json": "json11"}[pub.format]
    assert parsed.title == pub.name
    assert parsed.link == f"{BASE}/{key}/"
    assert len(parsed.entries) == 6
    for entry, item in zip(parsed.entries, newsroom.items[key], strict=True):
        article = normalise_entry(
            entry, feed_url=url, site_url=parsed.link, source=parsed.title or "", now=NOW, dek_max_chars=400
        )
        assert article is not None
        assert article.headline == item.story.headline  # `&`, `<`, quotes and accents survive
        assert article.dek == item.dek  # WordPress's "The post … appeared first on …" footer is gone
        assert article.url == f"{BASE}{item.path}"
        assert article.image == f"{BASE}{item.image_path}"
        assert set(item.story.categories) <= set(article.categories)
        assert article.published == item.published


def test_newsroom_publishes_fresh_items_and_revises_deks() -> None:
    newsroom = Newsroom(now=NOW, backfill=2, seed=1)
    before = {i.post_id for items in newsroom.items.values() for i in items}
    later = NOW + timedelta(seconds=8)
    item = newsroom.publish_next(later)
    assert item.post_id not in before
    assert item.published == later
    assert newsroom.items[item.story.publication][0] == item
    version = dict(newsroom.version)
    revised = newsroom.revise_one(later)
    assert revised is not None
    assert revised.dek.startswith(revised.story.dek)
    assert "Updated" in revised.dek
    assert newsroom.version[revised.story.publication] == version[revised.story.publication] + 1
    assert newsroom.find(revised.path) == revised
    # a newsroom started later never reuses an id, so a kept database never mistakes new stories for old
    again = Newsroom(now=later + timedelta(seconds=30), backfill=2, seed=1)
    assert min(i.post_id for items in again.items.values() for i in items) > item.post_id


def test_placeholder_png_is_a_valid_16_by_9_image() -> None:
    png = placeholder_png(("#1d4e89", "#58a4b0"), 42)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (192, 108)
    assert png != placeholder_png(("#1d4e89", "#58a4b0"), 43)


def test_first_link_counts_utf16_offsets() -> None:
    text = "🗞 News: https://example.org/a and more"
    entities = [{"type": "bold", "offset": 0, "length": 2}, {"type": "url", "offset": 9, "length": 21}]
    assert first_link(text, entities) == "https://example.org/a"
    entities.insert(0, {"type": "text_link", "offset": 3, "length": 4, "url": "https://x.test/"})
    assert first_link(text, entities) == "https://x.test/"
    assert first_link("plain", []) is None


@pytest.fixture
async def site() -> AsyncIterator[tuple[str, Newsroom]]:
    newsroom = Newsroom(now=datetime.now(UTC), backfill=3, seed=3)
    app = web.Application()
    add_site_routes(app, newsroom)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    tcp = web.TCPSite(runner, "127.0.0.1", 0)
    await tcp.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}", newsroom
    finally:
        await runner.cleanup()


async def test_site_serves_feeds_with_conditional_get(site: tuple[str, Newsroom]) -> None:
    origin, newsroom = site
    feeds = {pub.key: f"{origin}/{pub.key}/{pub.feed_path}" for pub in PUBLICATIONS}
    etags: dict[str, str] = {}
    async with httpx.AsyncClient() as client:
        for pub in PUBLICATIONS:
            first = await client.get(feeds[pub.key])
            assert first.status_code == 200
            assert first.headers["content-type"] == CONTENT_TYPES[pub.format]
            etags[pub.key] = first.headers["etag"]
            again = await client.get(feeds[pub.key], headers={"If-None-Match": etags[pub.key]})
            assert again.status_code == 304
            assert again.content == b""
        moved = newsroom.publish_next(datetime.now(UTC)).story.publication
        for key, url in feeds.items():
            answer = await client.get(url, headers={"If-None-Match": etags[key]})
            assert answer.status_code == (200 if key == moved else 304)


async def test_site_serves_article_pages_home_pages_and_images(site: tuple[str, Newsroom]) -> None:
    origin, newsroom = site
    item = newsroom.items["fieldnotes"][0]
    async with httpx.AsyncClient() as client:
        page = await client.get(f"{origin}{item.path}")
        assert page.status_code == 200
        meta = page_meta(page.content, str(page.url), content_type=page.headers["content-type"])
        assert meta.title == item.story.headline
        assert meta.description == item.dek
        assert meta.image == f"{origin}{item.image_path}"
        home = await client.get(f"{origin}/fieldnotes/")
        assert discover_feeds(home.content, str(home.url)) == [f"{origin}/fieldnotes/atom.xml"]
        image = await client.get(f"{origin}{item.image_path}")
        assert image.headers["content-type"] == "image/png"
        assert image.content.startswith(b"\x89PNG")
        assert (await client.get(f"{origin}/fieldnotes/articles/no-such-story-1")).status_code == 404
        assert (await client.get(f"{origin}/img/nowhere/1.png")).status_code == 404
    card = preview_for(f"{origin}{item.path}", newsroom, origin)
    assert card is not None
    assert card["title"] == item.story.headline
    assert card["site_name"] == "Field Notes"
    assert preview_for(f"https://elsewhere.test{item.path}", newsroom, origin) is None


def test_busy_port_falls_back_to_a_free_one() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        sock = _bind(busy)
        try:
            assert sock.getsockname()[1] not in (busy, 0)
        finally:
            sock.close()


# -- the whole sandbox, in-process --------------------------------------------------------------------------


@pytest.fixture
async def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[str, float]]:
    """A running sandbox: (page URL, monotonic start time). The database is a real file under tmp_path."""
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    settings = load_settings(None, DATABASE_PATH=str(tmp_path / "sandbox.db"))
    stop = asyncio.Event()
    ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    started = time.monotonic()
    task = asyncio.create_task(
        run_sandbox(settings, stop, SandboxOptions(port=0, feed_interval=2.0), on_ready=ready.set_result)
    )
    await asyncio.wait({task, ready}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        task.result()  # raises what stopped it
    url = await asyncio.wait_for(ready, timeout=1)
    try:
        yield url.rstrip("/"), started
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=20)
    assert (tmp_path / "sandbox.db").exists()  # DATABASE_PATH was set, so it is kept


async def test_sandbox_posts_to_the_channel_within_ten_seconds(sandbox: tuple[str, float]) -> None:
    url, started = sandbox
    async with httpx.AsyncClient(base_url=url, timeout=5) as client:
        posts: list[dict[str, object]] = []
        while time.monotonic() - started < 10 and not posts:
            state = (await client.get("/api/state")).json()
            posts = [m for m in state["messages"] if m["where"] == "channel"]
            await asyncio.sleep(0.2)
        assert posts, "no channel post within 10 s of start"
        post = posts[0]
        assert post["chat_id"] == SANDBOX_CHANNEL_ID
        assert post["parse_mode"] == "HTML"
        assert "<b>" in str(post["html"])
        assert "href=" in str(post["html"])
        preview = post["preview"]
        assert isinstance(preview, dict)
        assert preview["image"].startswith(url)
        status = (await client.get("/api/status")).json()
        assert status["telegram"]["updates_by"] == "polling"
        assert status["channel_posts"] >= 1
        assert status["bot"]["feeds"] == 3
        assert status["bot"]["articles"] >= 1


async def test_page_and_static_files_are_served_offline(sandbox: tuple[str, float]) -> None:
    url, _ = sandbox
    async with httpx.AsyncClient(base_url=url, timeout=5) as client:
        page = await client.get("/")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert "default-src 'self'" in page.headers["content-security-policy"]
        assert 'role="log"' in page.text
        assert "/static/app.js" in page.text
        script = await client.get("/static/app.js")
        assert script.status_code == 200
        assert not re.search(r"\.(inner|outer)HTML\s*[+]?=|insertAdjacentHTML|document\.write", script.text)
        style = await client.get("/static/style.css")
        assert style.status_code == 200
        for text in (page.text, script.text, style.text):
            assert "://" not in text  # no CDN, no web font: the page works offline
        assert (await client.get("/static/..%2Fsandbox.py")).status_code == 404
        assert (await client.get("/static/nope.js")).status_code == 404


async def test_chat_api_rejects_bad_input_with_one_clear_line(sandbox: tuple[str, float]) -> None:
    url, _ = sandbox
    async with httpx.AsyncClient(base_url=url, timeout=5) as client:
        form = await client.post("/api/send", data={"identity": "reader", "text": "/latest"})
        assert form.status_code == 415
        assert "application/json" in form.json()["error"]
        who = await client.post("/api/send", json={"identity": "root", "text": "/latest"})
        assert who.status_code == 400
        assert "reader" in who.json()["error"]
        empty = await client.post("/api/send", json={"identity": "reader", "text": "   "})
        assert empty.status_code == 400
        bad = await client.post("/api/fault", json={"action": "explode"})
        assert bad.status_code == 400
        assert "flood" in bad.json()["error"]


async def test_events_stream_carries_chat_and_replies(sandbox: tuple[str, float]) -> None:
    url, _ = sandbox
    async with (
        httpx.AsyncClient(base_url=url, timeout=15) as client,
        client.stream("GET", "/api/events") as stream,
    ):
        assert stream.headers["content-type"] == "text/event-stream"
        sent = await client.post("/api/send", json={"identity": "admin", "text": "/help"})
        assert sent.status_code == 200
        seen: list[dict[str, object]] = []
        async for line in stream.aiter_lines():
            if line.startswith("data: "):
                event = json.loads(line.removeprefix("data: "))
                seen.append(event)
                if event.get("where") == "chat" and event["event"] == "message_sent":
                    break
        mine = [e for e in seen if e["event"] == "user_message"]
        assert mine
        assert mine[0]["text"] == "/help"
        assert mine[0]["identity"] == "admin"
        reply = seen[-1]
        assert reply["identity"] == "admin"
        assert "/help" in str(reply["text"])


async def test_fault_buttons_change_what_telegram_answers(sandbox: tuple[str, float]) -> None:
    url, _ = sandbox
    async with httpx.AsyncClient(base_url=url, timeout=5) as client:
        flood = (await client.post("/api/fault", json={"action": "flood"})).json()
        assert flood["faults"]["flood_pending"] == 3
        assert "429" in flood["message"]
        outage = (await client.post("/api/fault", json={"action": "outage"})).json()
        assert outage["faults"]["outage"] is True
        assert (await client.post("/api/fault", json={"action": "outage"})).json()["faults"][
            "outage"
        ] is False
        kicked = (await client.post("/api/fault", json={"action": "kick"})).json()
        assert kicked["faults"]["bot_status"] == "kicked"
        back = (await client.post("/api/fault", json={"action": "restore"})).json()
        assert back["faults"]["bot_status"] == "administrator"
        cleared = (await client.post("/api/fault", json={"action": "clear"})).json()
        assert cleared["faults"] == {"outage": False, "bot_status": "administrator", "flood_pending": 0}


async def test_one_site_pushes_through_the_hub_and_one_pings_like_wordpress(
    sandbox: tuple[str, float], tmp_path: Path
) -> None:
    url, _ = sandbox
    db = tmp_path / "sandbox.db"

    def scalar(sql: str) -> object:
        with sqlite3.connect(db, timeout=5) as conn:
            return conn.execute(sql).fetchone()[0]

    async with httpx.AsyncClient(base_url=url, timeout=5) as client:
        sites = {s["key"]: s for s in (await client.get("/api/state")).json()["sites"]}
        assert {k: s["delivery"] for k, s in sites.items()} == {
            "courier": "ping",
            "fieldnotes": "push",
            "ledger": "poll",
        }
        assert "WebSub" in sites["fieldnotes"]["how"]
        assert "WordPress" in sites["courier"]["how"]
        feed = await client.get("/fieldnotes/atom.xml")
        assert f'<link href="{url}/hub" rel="hub"/>' in feed.text
        assert 'rel="hub"' not in (await client.get("/ledger/feed.json")).text
        deadline = time.monotonic() + 30
        pushed = pinged = False
        while time.monotonic() < deadline and not (pushed and pinged):
            await asyncio.sleep(0.5)
            status = (await client.get("/api/status")).json()
            pinged = {s["key"]: s for s in status["sites"]}["courier"]["sent"] >= 1
            pushed = db.exists() and bool(
                scalar("SELECT COUNT(*) FROM websub WHERE state = 'verified' AND last_push_at IS NOT NULL")
            )
        assert pushed, "no story of the pushing site arrived by push within 30 s"
        assert pinged, "no ping of the WordPress-like site was taken within 30 s"


async def test_the_sandbox_runs_in_webhook_mode_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """TELEGRAM_MODE=webhook make run: the stand-in delivers the visitor's messages to the bot's webhook."""
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    settings = load_settings(None, DATABASE_PATH=str(tmp_path / "sandbox.db"), TELEGRAM_MODE="webhook")
    stop = asyncio.Event()
    ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(
        run_sandbox(settings, stop, SandboxOptions(port=0, feed_interval=2.0), on_ready=ready.set_result)
    )
    await asyncio.wait({task, ready}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        task.result()
    url = (await asyncio.wait_for(ready, timeout=1)).rstrip("/")
    try:
        async with httpx.AsyncClient(base_url=url, timeout=5) as client:
            sent = await client.post("/api/send", json={"identity": "reader", "text": "/help"})
            assert sent.status_code == 200
            replies: list[dict[str, object]] = []
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not replies:
                state = (await client.get("/api/state")).json()
                replies = [
                    m for m in state["messages"] if m["where"] == "chat" and "/latest" in str(m["text"])
                ]
                await asyncio.sleep(0.2)
            assert replies, "no reply by webhook within 10 s"
            assert (await client.get("/api/status")).json()["telegram"]["updates_by"] == "webhook"
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=20)


async def test_inline_mode_lists_archive_stories(sandbox: tuple[str, float]) -> None:
    url, started = sandbox
    async with httpx.AsyncClient(base_url=url, timeout=15) as client:
        results: list[dict[str, object]] = []
        while time.monotonic() - started < 15 and not results:
            answer = (await client.post("/api/inline", json={"text": ""})).json()
            results = answer["results"]
            await asyncio.sleep(0.3)
        assert results, "no stories listed for an empty inline query"
        assert all(r["title"] and str(r["url"]).startswith("http") for r in results)
        bad = await client.post("/api/inline", json={"text": "x" * 257})
        assert bad.status_code == 400
        emoji = (await client.post("/api/inline", json={"text": "🙂🙂"})).json()
        assert emoji["results"] == []


async def test_posts_with_a_topic_carry_its_follow_button(sandbox: tuple[str, float]) -> None:
    url, started = sandbox
    link = re.compile(r"https://t\.me/newsbot_sandbox_bot\?start=topic-(technology|science|climate|money)\Z")
    async with httpx.AsyncClient(base_url=url, timeout=15) as client:
        buttons: list[dict[str, object]] = []
        while time.monotonic() - started < 20 and not buttons:
            state = (await client.get("/api/state")).json()
            buttons = [
                button
                for m in state["messages"]
                if m["where"] == "channel" and m.get("reply_markup")
                for row in m["reply_markup"]["inline_keyboard"]
                for button in row
            ]
            await asyncio.sleep(0.3)
        assert buttons, "no channel post with a Follow button within 20 s"
        for button in buttons:
            match = link.match(str(button["url"]))
            assert match is not None, button
            assert button["text"] == f"Follow {match.group(1)}"


async def test_the_readers_group_welcomes_and_follows_a_topic(sandbox: tuple[str, float]) -> None:
    url, _ = sandbox
    async with httpx.AsyncClient(base_url=url, timeout=15) as client:

        async def group_texts() -> list[str]:
            state = (await client.get("/api/state")).json()
            return [
                str(m["text"])
                for m in state["messages"]
                if m.get("identity") == "group" and m["where"] == "chat"
            ]

        sent = await client.post("/api/send", json={"identity": "group", "text": "/subscribe climate"})
        assert sent.status_code == 200
        deadline = time.monotonic() + 10
        texts = await group_texts()
        while time.monotonic() < deadline and not any(t.startswith("✅ This group") for t in texts):
            await asyncio.sleep(0.2)
            texts = await group_texts()
        assert any(t.startswith("👋 Thanks for adding me!") for t in texts)
        assert "✅ This group now follows climate: I'll post each new article in it here." in " ".join(texts)


async def test_the_reader_writes_in_another_app_language(sandbox: tuple[str, float]) -> None:
    url, _ = sandbox
    async with httpx.AsyncClient(base_url=url, timeout=15) as client:
        bad = await client.post(
            "/api/send", json={"identity": "reader", "text": "/topics", "language": "<x>"}
        )
        assert bad.status_code == 400
        sent = await client.post(
            "/api/send", json={"identity": "reader", "text": "/topics", "language": "zh-hans"}
        )
        assert sent.status_code == 200
        deadline = time.monotonic() + 10
        texts: list[str] = []
        while time.monotonic() < deadline and not any(t.startswith("🏷 话题") for t in texts):
            await asyncio.sleep(0.2)
            state = (await client.get("/api/state")).json()
            texts = [str(m["text"]) for m in state["messages"] if m.get("identity") == "reader"]
        assert any(t.startswith("🏷 话题") for t in texts), texts[-3:]
