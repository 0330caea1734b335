"""The review benchmark (issue 12): an editor's press on Post → the channel post accepted by the Bot API.

The whole bot runs (`serve`: the PTB Application polling the local Bot API, the review service, the
publisher) with REVIEW on and an editors' group. Articles are stored the way ingest stores them, so each
waits in review with a preview in the group; then an admin presses Post under one preview at a time, a few
seconds apart (under the channel's 20 posts a minute, so no post waits for the window), and the time from
the press (the callback query queued for getUpdates) to the channel's sendMessage accepted is measured on
the stand-in's own event stream.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.report import Goal, latency_summary
from bot.adapters.db import Database
from bot.adapters.repo_articles import ArticleRepo
from bot.adapters.repo_feeds import FeedRepo
from bot.core.models import Article
from bot.core.policy import PostPolicy
from bot.edges.app import serve
from bot.sandbox.botapi import LocalBotAPI
from bot.settings import load_settings

TOKEN = "123456:BENCH-token-review-aaaaaaaaaaaaaaaaa"
CHANNEL = -1001234567890
EDITORS = -1005550001111
EDITOR = 4242


def _article(i: int) -> Article:
    return Article(
        guid=f"review-{i}",
        url=f"https://news.example/review/{i}",
        headline=f"Story {i} waiting for an editor",
        dek=f"The standfirst of story {i}, one sentence long enough to read like one.",
        published=datetime.now(UTC),
        source="News Example",
    )


async def _store(db_path: Path, count: int) -> None:
    db = await Database(db_path).open(migrate=True)
    try:
        now = datetime.now(UTC)
        feed, _ = await FeedRepo(db).ensure("http://127.0.0.1:9/feed.xml", now)
        await ArticleRepo(db).store(
            feed.id,
            [_article(i) for i in range(count)],
            now=now,
            first_sync=False,
            policy=PostPolicy(review=True),
            channel_id=str(CHANNEL),
        )
    finally:
        await db.close()


async def run(*, presses: int = 20, spacing: float = 3.1) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-review-") as tmp:
        db_path = Path(tmp) / "bot.db"
        await _store(db_path, presses)
        async with LocalBotAPI(TOKEN) as api:
            api.add_chat(CHANNEL, username="benchnews", title="Bench News")
            api.add_chat(EDITORS, title="Editors", type="supergroup", admins={EDITOR: "creator"})
            settings = load_settings(
                None,
                BOT_TOKEN=TOKEN,
                TELEGRAM_API_URL=api.api_url,
                CHANNEL_ID=str(CHANNEL),
                ADMIN_IDS=str(EDITOR),
                DATABASE_PATH=str(db_path),
                REVIEW="on",
                REVIEW_CHAT_ID=str(EDITORS),
                FEEDS="",
            )
            stop = asyncio.Event()
            task = asyncio.create_task(serve(settings, stop))
            try:
                await api.wait_until(
                    lambda: len(_previews(api)) >= presses or task.done(), timeout=60 + 3 * presses
                )
                if task.done():
                    task.result()
                samples = await _press_each(api, _previews(api)[:presses], spacing)
            finally:
                stop.set()
                await asyncio.wait_for(task, timeout=30)
            posted = len(api.channel_posts(CHANNEL))
            errors = api.count_429
    summary = latency_summary(samples)
    goals = [
        Goal(
            "editor's press → channel post, p50",
            "< 50 ms",
            f"{summary['p50_ms']:.1f} ms",
            summary["p50_ms"] < 50,
        ),
        Goal(
            "editor's press → channel post, p99",
            "< 200 ms",
            f"{summary['p99_ms']:.1f} ms",
            summary["p99_ms"] < 200,
        ),
        Goal("each pressed story posted once", str(presses), str(posted), posted == presses),
    ]
    lines = [
        f"  {presses} previews in the editors' group, Post pressed under each {spacing:g} s apart",
        "  (the whole bot polling the local Bot API); latency = the press queued → the channel post accepted",
        f"  p50 {summary['p50_ms']:.1f} ms, p99 {summary['p99_ms']:.1f} ms, max {summary['max_ms']:.1f} ms; "
        f"posted {posted}; 429s {errors}",
    ]
    return {
        "presses": presses,
        "latency": summary,
        "posted": posted,
        "goals": [g.as_dict() for g in goals],
        "lines": lines,
    }


def _previews(api: LocalBotAPI) -> list[int]:
    return [
        m.message_id
        for m in api.chat_messages(EDITORS)
        if m.reply_markup and "inline_keyboard" in m.reply_markup
    ]


async def _press_each(api: LocalBotAPI, previews: list[int], spacing: float) -> list[float]:
    events = api.subscribe()
    samples: list[float] = []
    try:
        for message_id in previews:
            while not events.empty():
                events.get_nowait()
            started = time.perf_counter()
            api.press(EDITORS, message_id, "✅ Post", user_id=EDITOR, first_name="Ada")
            while True:
                event = await asyncio.wait_for(events.get(), timeout=30)
                if event.get("event") == "message_sent" and event.get("chat_id") == CHANNEL:
                    samples.append((time.perf_counter() - started) * 1000)
                    break
            await asyncio.sleep(spacing)
    finally:
        api.unsubscribe(events)
    return samples
