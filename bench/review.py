"""The review benchmark (issue 12): an editor's press on Post → the channel post accepted by the Bot API.

The whole bot runs (`serve`: the PTB Application polling the local Bot API, the review service, the
publisher) with REVIEW on. Articles are stored the way ingest stores them, so each waits in review with a
preview in the editor's private chat (REVIEW_CHAT_ID empty); then the editor presses Post under one
preview at a time and the time from the press (the callback query queued for getUpdates) to the channel's
sendMessage accepted is measured on the stand-in's own event stream.

Telegram allows 20 posts a minute per channel, so one channel gives 20 presses a minute. To time a few
hundred presses in a minute or two, each story belongs to one of CHANNELS topic channels (its topic's
own channel; no main-channel copy) and the presses go round them, each channel getting one post every
3.1 s: no post ever waits for a channel's window, as with one channel and presses 3.1 s apart. The
stand-in's private-chat limit is raised (PRIVATE_LIMIT) so the previews are in place quickly; the
channels' limits are Telegram's.
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
from bot.adapters.repo_topics import TopicRepo, matcher_for
from bot.core.models import Article, Topic
from bot.core.policy import PostPolicy
from bot.edges.app import serve
from bot.sandbox.botapi import LocalBotAPI
from bot.settings import load_settings

TOKEN = "123456:BENCH-token-review-aaaaaaaaaaaaaaaaa"
CHANNEL = -1001234567890  # CHANNEL_ID: the bot's main channel (these stories go to topic channels)
CHANNELS = 10  # topic channels the presses go round
CHANNEL_GAP = 3.1  # seconds between two posts to one channel: under its 20 a minute
PRIVATE_LIMIT = (100, 1.0)  # the editor's private chat in the stand-in: previews arrive in bulk
EDITOR = 4242


def _channel(k: int) -> int:
    return CHANNEL - 1 - k


def _article(i: int) -> Article:
    return Article(
        guid=f"review-{i}",
        url=f"https://news.example/review/{i}",
        headline=f"Story {i} for desk{i % CHANNELS} waiting for an editor",
        dek=f"The standfirst of story {i}, one sentence long enough to read like one.",
        published=datetime.now(UTC),
        source="News Example",
    )


async def _store(db_path: Path, count: int) -> None:
    db = await Database(db_path).open(migrate=True)
    try:
        now = datetime.now(UTC)
        topics = TopicRepo(db)
        for k in range(CHANNELS):
            await topics.save(Topic(f"desk{k}", f"Desk {k}", (f"desk{k}",), channel_id=str(_channel(k))), now)
        feed, _ = await FeedRepo(db).ensure("http://127.0.0.1:9/feed.xml", now)
        await ArticleRepo(db).store(
            feed.id,
            [_article(i) for i in range(count)],
            now=now,
            first_sync=False,
            policy=PostPolicy(review=True),
            channel_id=None,
            matchers=[matcher_for(t) for t in await topics.all()],
        )
    finally:
        await db.close()


async def run(*, presses: int = 200) -> dict[str, Any]:
    spacing = CHANNEL_GAP / min(CHANNELS, presses)
    with tempfile.TemporaryDirectory(prefix="bench-review-") as tmp:
        db_path = Path(tmp) / "bot.db"
        await _store(db_path, presses)
        async with LocalBotAPI(TOKEN, private_limit=PRIVATE_LIMIT) as api:
            api.add_chat(CHANNEL, username="benchnews", title="Bench News")
            for k in range(CHANNELS):
                api.add_chat(_channel(k), username=f"benchdesk{k}", title=f"Bench desk {k}")
            api.remember_user(EDITOR, username="ada", first_name="Ada")
            api.private_chat(EDITOR).started = True
            settings = load_settings(
                None,
                BOT_TOKEN=TOKEN,
                TELEGRAM_API_URL=api.api_url,
                CHANNEL_ID=str(CHANNEL),
                ADMIN_IDS=str(EDITOR),
                DATABASE_PATH=str(db_path),
                REVIEW="on",
                REVIEW_CHAT_ID="",
                FEEDS="",
            )
            stop = asyncio.Event()
            task = asyncio.create_task(serve(settings, stop))
            try:
                await api.wait_until(
                    lambda: len(_previews(api)) >= presses or task.done(), timeout=60 + presses
                )
                if task.done():
                    task.result()
                started = time.perf_counter()
                samples = await _press_each(api, _previews(api)[:presses], spacing)
                pressing = time.perf_counter() - started
            finally:
                stop.set()
                await asyncio.wait_for(task, timeout=30)
            channels = [CHANNEL, *(_channel(k) for k in range(CHANNELS))]
            posted = sum(len(api.channel_posts(c)) for c in channels)
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
        f"  {presses} previews in the editor's private chat, Post pressed under each {spacing:.2f} s apart"
        f" ({pressing:.0f} s), round {min(CHANNELS, presses)} topic channels (one post per channel"
        f" every {CHANNEL_GAP:g} s: under Telegram's 20 a minute)",
        "  (the whole bot polling the local Bot API); latency = the press queued → the channel post accepted",
        f"  p50 {summary['p50_ms']:.1f} ms, p99 {summary['p99_ms']:.1f} ms, max {summary['max_ms']:.1f} ms; "
        f"posted {posted}; 429s {errors}",
    ]
    return {
        "presses": presses,
        "latency": summary,
        "posted": posted,
        "too_many_requests": errors,
        "goals": [g.as_dict() for g in goals],
        "lines": lines,
    }


def _previews(api: LocalBotAPI) -> list[int]:
    return [
        m.message_id
        for m in api.chat_messages(EDITOR)
        if m.reply_markup and "inline_keyboard" in m.reply_markup
    ]


async def _press_each(api: LocalBotAPI, previews: list[int], spacing: float) -> list[float]:
    """Press Post under each preview, `spacing` apart; the press → its channel post, in ms."""
    events = api.subscribe()
    samples: list[float] = []
    channels = {_channel(k) for k in range(CHANNELS)} | {CHANNEL}
    try:
        for message_id in previews:
            while not events.empty():
                events.get_nowait()
            started = time.perf_counter()
            api.press(EDITOR, message_id, "✅ Post", user_id=EDITOR, first_name="Ada")
            while True:
                event = await asyncio.wait_for(events.get(), timeout=30)
                if event.get("event") == "message_sent" and event.get("chat_id") in channels:
                    samples.append((time.perf_counter() - started) * 1000)
                    break
            await asyncio.sleep(max(0.0, spacing - (time.perf_counter() - started)))
    finally:
        api.unsubscribe(events)
    return samples
