"""The burst benchmark (issue 14): one send budget under load. A burst of stories (a third of them in a
topic with a thousand subscribers) while readers chat, against the stand-in enforcing Telegram's limits
(20 posts a minute in the channel, about one message a second per private chat with bursts of 3, 30 a
second in all): the channel gets every story once, Telegram never answers 429, and readers' replies stay
fast because they go before posts and subscription DMs in the bot's one budget.

The bot runs as deployed (`newsbot run`, its own process). The stories are stored the way ingest stores
them (`ArticleRepo.store`, which queues each post and each subscriber's DM in the same transaction) into
its database from this process; the bot's publisher and fan-out find them on their next look. Readers ask
`/latest`, `/topic harbour` and `/search` in turn, one every ASK_SPACING s, each reader at most once in
READER_GAP s, until the last story is posted. With Telegram's real limits 60 stories take two minutes
(the first 20 at once, then one every 3 s); the DMs of 20 stories to 1,000 readers (20,000 messages) take
longer than that at Telegram's 30 a second, so the report says how many went during the burst and that
the rest stay queued, not lost.
"""

from __future__ import annotations

import asyncio
import re
import sys
import tempfile
import time
from datetime import UTC, datetime
from itertools import cycle
from pathlib import Path
from typing import Any

from bench.chat import asker, bot_process, quiet_bot_env
from bench.report import Goal, latency_summary
from bot.adapters.db import Database
from bot.adapters.repo_articles import ArticleRepo
from bot.adapters.repo_feeds import FeedRepo
from bot.adapters.repo_topics import TopicRepo, matcher_for
from bot.core.models import Article, Topic
from bot.core.policy import PostPolicy
from bot.sandbox.botapi import LocalBotAPI

TOKEN = "123456:BENCH-token-burst-aaaaaaaaaaaaaaaaaa"
CHANNEL = -1001234567892
TOPIC = "harbour"
SUBSCRIBER_BASE = 500_000
READER_BASE = 700_000
ASK_SPACING = 0.2  # seconds between two readers' commands: 5 a second
READER_GAP = 3.0  # seconds before the same reader asks again (within Telegram's private-chat limit)
P99_GOAL_MS = 100.0
_STORY = re.compile(r"burst\.example/story/(\d+)")


def _article(i: int) -> Article:
    topical = i % 3 == 0
    return Article(
        guid=f"burst-{i}",
        url=f"https://burst.example/story/{i}",
        headline=f"{'Harbour' if topical else 'Council'} story {i}: the vote ends a year of talks",
        dek="Work on the quay starts in spring, officials said on Monday after the budget passed.",
        published=datetime.now(UTC),
        source="Burst Gazette",
        categories=("Harbour",) if topical else ("Politics",),
    )


async def _prepare(db_path: Path, subscribers: int) -> None:
    db = await Database(db_path).open(migrate=True)
    try:
        now = datetime.now(UTC)
        topics = TopicRepo(db)
        stored, _ = await topics.save(Topic(TOPIC, "Harbour", (TOPIC,)), now)
        for k in range(subscribers):
            await topics.subscribe(SUBSCRIBER_BASE + k, stored.id, now)
    finally:
        await db.close()


async def _store(db_path: Path, stories: int) -> None:
    db = await Database(db_path).open()
    try:
        now = datetime.now(UTC)
        topics = TopicRepo(db)
        feed, _ = await FeedRepo(db).ensure("http://127.0.0.1:9/feed.xml", now)
        await ArticleRepo(db).store(
            feed.id,
            [_article(i) for i in range(stories)],
            now=now,
            first_sync=False,
            policy=PostPolicy(),
            channel_id=str(CHANNEL),
            matchers=[matcher_for(t) for t in await topics.all()],
        )
    finally:
        await db.close()


async def run(
    *, stories: int = 60, subscribers: int = 1000, readers: int = 200, bot_log: Path | None = None
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-burst-") as tmp:
        db_path = Path(tmp) / "burst.db"
        await _prepare(db_path, subscribers)
        async with LocalBotAPI(TOKEN) as api:  # Telegram's limits (the stand-in's defaults)
            api.add_chat(CHANNEL, username="burstnews", title="Burst News")
            for k in range(subscribers):
                api.add_user(SUBSCRIBER_BASE + k)
            env = quiet_bot_env(TOKEN, api, CHANNEL, db_path)
            ask = asker(api)
            asked: list[tuple[str, float]] = []
            async with bot_process([sys.executable, "-m", "bot", "run"], env, api, bot_log):
                started = time.perf_counter()
                await _store(db_path, stories)

                def posted() -> int:
                    return len(api.channel_posts(CHANNEL))

                async def chat() -> None:
                    texts = cycle(["/latest", f"/topic {TOPIC}", f"/search {TOPIC} vote"])
                    ids = cycle(range(READER_BASE, READER_BASE + readers))
                    pending: set[asyncio.Task[None]] = set()
                    gap = max(ASK_SPACING, READER_GAP / readers)

                    async def one(text: str, user: int) -> None:
                        ms, _ = await ask(text, user)
                        asked.append((text, ms))

                    while posted() < stories and time.perf_counter() - started < 600:
                        task = asyncio.create_task(one(next(texts), next(ids)))
                        pending.add(task)
                        task.add_done_callback(pending.discard)
                        await asyncio.sleep(gap)
                    await asyncio.gather(*pending)

                await chat()
                seconds = time.perf_counter() - started
                dms_sent = sum(len(api.chat_messages(SUBSCRIBER_BASE + k)) for k in range(subscribers))
            floods = api.count_429
            numbers = [int(m.group(1)) for p in api.channel_posts(CHANNEL) if (m := _STORY.search(p.html))]
    replies = latency_summary([ms for _, ms in asked])
    once = sorted(numbers) == list(range(stories))
    topical = len(range(0, stories, 3))
    goals = [
        Goal(
            "every story posted once",
            f"{stories} once each",
            f"{len(numbers)} posts, {len(set(numbers))} stories",
            once,
        ),
        Goal("no 429 from Telegram", "0", str(floods), floods == 0),
        Goal(
            f"readers' replies during the burst: p99 under {P99_GOAL_MS:g} ms",
            f"< {P99_GOAL_MS:g} ms",
            f"p50 {replies['p50_ms']:.1f} / p99 {replies['p99_ms']:.1f} ms (n={replies['n']})",
            replies["n"] > 0 and replies["p99_ms"] < P99_GOAL_MS,
        ),
    ]
    lines = [
        f"  {stories} stories stored at once, {topical} in '{TOPIC}' with {subscribers} subscribers "
        f"({topical * subscribers} DMs); {readers} readers asking, one command every "
        f"{max(ASK_SPACING, READER_GAP / readers) * 1000:g} ms; Telegram's real limits",
        f"  channel: {len(numbers)} posts in {seconds:.1f} s; 429s: {floods}",
        f"  DMs sent meanwhile: {dms_sent} ({dms_sent / seconds:.1f}/s); the rest stay queued and follow",
        f"  replies: p50 {replies['p50_ms']:.1f}  p99 {replies['p99_ms']:.1f}  "
        f"max {replies['max_ms']:.1f} ms (n={replies['n']})",
    ]
    return {
        "stories": stories,
        "posted": len(numbers),
        "seconds": round(seconds, 1),
        "status_429": floods,
        "dms_sent": dms_sent,
        "replies": replies,
        "goals": [g.as_dict() for g in goals],
        "lines": lines,
    }
