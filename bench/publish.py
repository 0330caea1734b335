"""The publish benchmark (issue 4): latency from an article stored to its post accepted, and a paced burst.

The bot side is the runtime's own publisher and outbox (bot/edges/runtime.py) sending through the PTB
Application's Bot (with its send budget, bot/adapters/send_budget.py), against the local Bot API
enforcing Telegram's limits: 20 posts a minute per channel, 30 messages a second in all. Articles are
stored the way the ingest cycle stores them (`ArticleRepo.store`, which queues the post in the same
transaction) and the publisher is woken as ingest wakes it.
Two cases, each on a fresh server, database and bot:

- steady: one article every 4 s (15 a minute, under the channel's limit), so latency is the pipeline's own;
- burst: 60 articles stored at once, which pacing must spread over about two minutes without a 429.

`--quick` divides Telegram's per-channel window by `scale` (by default QUICK_SCALE: 20 posts per 6 s) on the
server, the publisher's pacer and the send budget alike, and the report says so.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
import re
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from telegram import Bot
from telegram.ext import ExtBot

from bench.report import Goal, latency_summary
from bot.adapters.send_budget import BudgetLimiter
from bot.adapters.telegram_sender import TelegramSender
from bot.core.budget import BudgetLimits, SendBudget
from bot.core.models import Article
from bot.edges.app import build_application
from bot.edges.runtime import Runtime, open_runtime
from bot.sandbox.botapi import LocalBotAPI
from bot.services.publisher import Publisher
from bot.settings import load_settings

TOKEN = "123456:BENCH-token-publish-aaaaaaaaaaaaaaaa"
CHANNEL = -1001234567890
FEED_URL = "http://127.0.0.1:9/feed.xml"  # never fetched: the ingest loop does not run here
QUICK_SCALE = 10.0
STEADY_SPACING = 4.0  # seconds between articles in the steady case: 15 a minute
_STORY = re.compile(r"bench\.example/story/(\d+)")


def _article(i: int) -> Article:
    return Article(
        guid=f"bench-{i}",
        url=f"https://bench.example/story/{i}",
        headline=f"Council approves the harbour budget, story {i}",
        dek="The vote ends a year of talks; work on the quay starts in spring, officials said on Monday.",
        published=datetime.now(UTC),
        source="Bench Gazette",
        categories=("Politics",),
    )


def _publisher(runtime: Runtime, window: float) -> Publisher:
    """The runtime's publisher, or (quick) the same one built with the scaled channel window."""
    assert runtime.publisher is not None
    if window == 60.0:
        return runtime.publisher
    settings = runtime.settings

    def sender(bot: Any) -> TelegramSender:  # as bot/edges/runtime.py's build_publisher makes it
        return TelegramSender(
            bot,
            link_preview=settings.link_preview,
            disable_notification=settings.disable_notification,
            timeout=settings.send_timeout_seconds,
        )

    config = dataclasses.replace(runtime.publisher.config, window_seconds=window)
    return Publisher(runtime.publisher.store, sender, config)


async def _bot(runtime: Runtime, window: float) -> tuple[Bot, Any]:
    """(bot, closer): the Application's Bot, or (quick) an ExtBot with the send budget's channel window
    scaled."""
    if window == 60.0:
        app = build_application(runtime)
        await app.initialize()
        return app.bot, app.shutdown
    limiter = BudgetLimiter(SendBudget(BudgetLimits(group=(20, window))))
    bot = ExtBot(
        runtime.settings.token or "",
        base_url=f"{runtime.settings.telegram_api_url}/bot",
        rate_limiter=limiter,
    )
    await bot.initialize()
    return bot, bot.shutdown


async def run_case(workdir: Path, name: str, *, posts: int, spacing: float, window: float) -> dict[str, Any]:
    """Store `posts` articles `spacing` s apart (0: all in one store) and wait until all are posted."""
    async with LocalBotAPI(TOKEN, channel_limit=(20, window), global_limit=(30, 1.0)) as api:
        api.add_chat(CHANNEL, username="benchnews", title="Bench News")
        settings = load_settings(
            None,
            BOT_TOKEN=TOKEN,
            TELEGRAM_API_URL=api.api_url,
            CHANNEL_ID=str(CHANNEL),
            DATABASE_PATH=str(workdir / f"{name}.db"),
            FEEDS="",
        )
        runtime = await open_runtime(settings)
        accepted: dict[int, float] = {}
        events = api.subscribe()

        async def watch() -> None:
            while True:
                event = await events.get()
                found = (
                    _STORY.search(str(event.get("html", ""))) if event["event"] == "message_sent" else None
                )
                if found:
                    accepted.setdefault(int(found.group(1)), time.perf_counter())

        watcher = asyncio.create_task(watch())
        bot, close_bot = await _bot(runtime, window)
        publisher = _publisher(runtime, window)
        stop = asyncio.Event()
        loop_task = asyncio.create_task(publisher.loop(bot, stop))
        try:
            feed = await runtime.feeds.add(FEED_URL, datetime.now(UTC))
            stored: dict[int, float] = {}
            batches = [[i] for i in range(posts)] if spacing else [list(range(posts))]
            started = time.perf_counter()
            for batch in batches:
                await runtime.articles.store(
                    feed.id,
                    [_article(i) for i in batch],
                    now=datetime.now(UTC),
                    first_sync=False,
                    policy=runtime.policy,
                    channel_id=settings.channel_id,
                )
                stored.update(dict.fromkeys(batch, time.perf_counter()))
                publisher.wake()  # as the ingest service does after queueing posts
                if spacing:
                    await asyncio.sleep(spacing)
            deadline = time.perf_counter() + 120 + posts / 20 * window * 2
            while len(accepted) < posts:
                if time.perf_counter() > deadline:
                    raise TimeoutError(
                        f"{name}: {len(accepted)} of {posts} posts accepted before the deadline"
                    )
                await asyncio.sleep(0.01)
            took = max(accepted.values()) - started
            # the bot records a post as sent after Telegram's answer reaches it: let the last record land
            sql = "SELECT latency_ms FROM outbox WHERE state = 'sent'"
            while len(rows := await runtime.db.fetchall(sql)) < posts and time.perf_counter() < deadline:
                await asyncio.sleep(0.01)
        finally:
            stop.set()
            await asyncio.wait_for(loop_task, timeout=30)
            watcher.cancel()
            await close_bot()
            await runtime.close()
        posted = [int(m.group(1)) for p in api.channel_posts(CHANNEL) if (m := _STORY.search(p.html))]
    observed = [(accepted[i] - stored[i]) * 1000 for i in range(posts)]
    return {
        "case": name,
        "posts": posts,
        "spacing_s": spacing,
        "status_429": api.count_429,
        "posted_once": sorted(posted) == list(range(posts)),
        "seconds": round(took, 2),
        "observed": latency_summary(observed),  # the bench's clock: store committed → server accepted
        "recorded": latency_summary([float(r[0]) for r in rows]),  # the bot's own latency_ms column
    }


async def run(*, burst: int = 60, steady: int = 20, scale: float = 1.0) -> dict[str, Any]:
    """Both cases; `scale` > 1 divides Telegram's per-channel window by it (--quick)."""
    quick = scale != 1.0
    window = 60.0 / scale
    with tempfile.TemporaryDirectory(prefix="bench-publish-") as tmp:
        workdir = Path(tmp)
        steady_case = await run_case(
            workdir, "steady", posts=steady, spacing=STEADY_SPACING / scale, window=window
        )
        burst_case = await run_case(workdir, "burst", posts=burst, spacing=0.0, window=window)
    minimum = math.ceil(max(0, burst - 20) / 20) * window  # whole windows the burst waits at 20 a window
    goals = [
        Goal(
            f"burst of {burst}: no 429 from the Bot API enforcing the limits",
            "0",
            str(burst_case["status_429"]),
            burst_case["status_429"] == 0,
        ),
        Goal(
            "every article posted exactly once",
            "steady and burst",
            f"steady {_yes(steady_case['posted_once'])}, burst {_yes(burst_case['posted_once'])}",
            steady_case["posted_once"] and burst_case["posted_once"],
        ),
        Goal(
            "latency under the limit is the pipeline's (no post waits for the window)",
            "p99 < 1000 ms",
            f"p50 {steady_case['observed']['p50_ms']:.0f} ms, p99 {steady_case['observed']['p99_ms']:.0f} ms",
            steady_case["observed"]["p99_ms"] < 1000 and steady_case["status_429"] == 0,
        ),
    ]
    limits = f"Telegram's window / {scale:g} (--quick)" if quick else "Telegram's real limits"
    steady_obs, steady_rec = steady_case["observed"], steady_case["recorded"]
    waits = burst_case["observed"]
    lines = [
        f"  local Bot API enforcing 20 posts per {window:g} s per channel, 30 messages/s overall ({limits});",
        "  latency = article stored (its outbox row committed) → sendMessage accepted by the server",
        f"  steady: {steady} articles, one every {STEADY_SPACING / scale:g} s: "
        f"p50 {steady_obs['p50_ms']:.1f} ms, p99 {steady_obs['p99_ms']:.1f} ms "
        f"(the bot's own latency_ms: p50 {steady_rec['p50_ms']:.0f}, "
        f"p99 {steady_rec['p99_ms']:.0f}); 429s {steady_case['status_429']}",
        f"  burst: {burst} articles stored at once, all posted after {burst_case['seconds']:.1f} s "
        f"(20 per window allows no less than {minimum:g} s); 429s {burst_case['status_429']}",
        f"         time queued: p50 {waits['p50_ms'] / 1000:.1f} s, p99 {waits['p99_ms'] / 1000:.1f} s",
    ]
    return {
        "quick": quick,
        "scale": scale,
        "window_s": window,
        "steady": steady_case,
        "burst": burst_case,
        "goals": [g.as_dict() for g in goals],
        "lines": lines,
    }


def _yes(value: bool) -> str:
    return "yes" if value else "NO"
