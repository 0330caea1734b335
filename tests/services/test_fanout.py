"""Subscription DMs end to end: readers subscribe in chat, articles are stored as ingest stores them, and the
running bot's fan-out delivers them paced, unsubscribes readers who blocked it, and waits out 429s."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.adapters.db import Database
from bot.adapters.repo_articles import ArticleRepo
from bot.adapters.repo_topics import TopicRepo
from bot.core.models import Article
from bot.core.policy import PostPolicy
from bot.sandbox.botapi import LocalBotAPI
from tests.kits.chatkit import ChatBot, poll_until, running_bot

DM_RATE = 5


def tech_article(i: int, *, extra: str = "") -> Article:
    return Article(
        guid=f"fanout-{i}",
        url=f"https://www.dailyplanet.example/tech/{i}?ref=rss&x=1",
        headline=f"Chipmaker & software giant <unveils> plan {i}{extra}",
        dek=f"The artificial intelligence push, part {i}, costs “billions” & more.",
        published=datetime.now(UTC),
        source="Daily Planet",
    )


async def store(bot: ChatBot, articles: Sequence[Article]) -> int:
    """Store like the ingest cycle: one transaction that tags topics and queues subscribers' DMs."""
    db = await Database(bot.db_path).open()
    try:
        result = await ArticleRepo(db).store(
            bot.made.feed_ids[0],
            list(articles),
            now=datetime.now(UTC),
            first_sync=False,
            policy=PostPolicy(),
            channel_id=None,
            matchers=await TopicRepo(db).matchers(),
        )
    finally:
        await db.close()
    return result.new


@asynccontextmanager
async def dm_times(api: LocalBotAPI) -> AsyncIterator[list[tuple[float, int, str]]]:
    """(loop time, chat id, text) of every message the bot sends while the block runs."""
    queue = api.subscribe()
    seen: list[tuple[float, int, str]] = []
    loop = asyncio.get_running_loop()

    async def consume() -> None:
        while True:
            event = await queue.get()
            if event.get("event") == "message_sent":
                seen.append((loop.time(), int(event["chat_id"]), str(event["text"])))

    task = asyncio.create_task(consume())
    try:
        yield seen
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        api.unsubscribe(queue)


async def test_subscribers_get_each_article_paced(tmp_path: Path) -> None:
    readers = [601, 602, 603, 604]
    settings = {"DM_PER_SECOND": str(DM_RATE), "COMMAND_BURST": "50"}
    async with running_bot(tmp_path, articles=60, private_limit=(3, 1.0), **settings) as bot:
        for uid in readers:
            assert (await bot.ask("/subscribe tech", user_id=uid)).text.startswith("✅ You now follow tech")
        await bot.ask("/subscribe sport", user_id=readers[0])
        async with dm_times(bot.api) as sent:
            assert (
                await store(bot, [tech_article(1), tech_article(2), tech_article(3, extra=" for football")])
                == 3
            )
            await poll_until(lambda: len(sent) >= 12, timeout=20)
            await asyncio.sleep(0.3)
        assert len(sent) == 12
        assert bot.api.count_429 == 0
        for uid in readers:
            mine = [(t, text) for t, chat, text in sent if chat == uid]
            assert len(mine) == 3
            gaps = [b[0] - a[0] for a, b in itertools.pairwise(mine)]
            assert all(gap >= 0.9 for gap in gaps), gaps  # about one message a second per reader
        times = sorted(t for t, _, _ in sent)
        for i in range(len(times) - DM_RATE):
            assert times[i + DM_RATE] - times[i] >= 0.9  # never more than DM_RATE in one second
        # the message: linked headline, the dek, source and the reader's matching topics; escaped once
        first = next(m for m in bot.api.chat_messages(readers[0]) if "plan 3" in m.text)
        assert first.text == (
            "Chipmaker & software giant <unveils> plan 3 for football\n\n"
            "The artificial intelligence push, part 3, costs “billions” & more.\n\n"
            "Daily Planet · #sport · #tech"
        )
        link = next(e for e in first.entities if e["type"] == "text_link")
        assert link["url"] == "https://www.dailyplanet.example/tech/3?ref=rss&x=1"
        assert {e["type"] for e in first.entities} >= {"bold", "italic", "text_link"}
        other = next(m for m in bot.api.chat_messages(readers[1]) if "plan 3" in m.text)
        assert other.text.endswith("Daily Planet · #tech")
        assert bot.scalar("SELECT COUNT(*) FROM dm_outbox WHERE state = 'sent'") == 12


async def test_readers_who_blocked_the_bot_are_unsubscribed(tmp_path: Path) -> None:
    blocker, never_started, fan = 701, 702, 703
    async with running_bot(tmp_path, articles=40) as bot:
        for uid in (blocker, fan):
            await bot.ask("/subscribe tech", user_id=uid)
            await bot.ask("/subscribe sport", user_id=uid)
        bot.api.block_bot(blocker)
        # a subscription whose reader never opened a private chat with the bot (subscribed from a group
        # before /subscribe in a group meant the group's own topics)
        bot.api.add_user(never_started, started=False)
        await bot.write(
            "INSERT INTO subscriptions (user_id, topic_id, created_at)"
            " SELECT ?, id, 0 FROM topics WHERE name = 'tech'",
            (never_started,),
        )
        await store(bot, [tech_article(1), tech_article(2)])
        await bot.api.wait_until(
            lambda: sum("plan" in m.text for m in bot.api.chat_messages(fan)) == 2, timeout=20
        )
        await poll_until(lambda: bot.scalar("SELECT COUNT(*) FROM dm_outbox WHERE state = 'queued'") == 0)
        for uid in (blocker, never_started):
            assert bot.scalar("SELECT COUNT(*) FROM subscriptions WHERE user_id = ?", (uid,)) == 0
            states = bot.query("SELECT state, last_error FROM dm_outbox WHERE user_id = ?", (uid,))
            assert len(states) == 2
            assert all(state == "failed" for state, _ in states)
        assert (
            "blocked by the user"
            in bot.query("SELECT last_error FROM dm_outbox WHERE user_id = ?", (blocker,))[0][0]
        )
        assert not any("plan" in m.text for m in bot.api.chat_messages(blocker))
        assert bot.scalar("SELECT COUNT(*) FROM subscriptions WHERE user_id = ?", (fan,)) == 2


async def test_flood_wait_is_waited_out_and_nothing_is_lost(tmp_path: Path) -> None:
    reader = 801
    async with running_bot(tmp_path, articles=40) as bot:
        await bot.ask("/subscribe tech", user_id=reader)
        bot.api.fail_next("sendMessage", status=429, retry_after=2, chat_id=reader)
        loop = asyncio.get_running_loop()
        async with dm_times(bot.api) as sent:
            started = loop.time()
            await store(bot, [tech_article(1), tech_article(2)])
            await poll_until(lambda: len(sent) >= 2, timeout=20)
        assert bot.api.count_429 == 1
        assert sent[0][0] - started >= 2.0  # retried only after retry_after
        # the same message is retried first, so the order holds
        assert [text.split("\n")[0][-6:] for _, _, text in sent] == ["plan 1", "plan 2"]
        await poll_until(lambda: bot.scalar("SELECT COUNT(*) FROM dm_outbox WHERE state = 'sent'") == 2)


async def test_stale_dms_are_dropped(tmp_path: Path) -> None:
    reader = 901
    async with running_bot(tmp_path, articles=40, DM_MAX_AGE_HOURS="1") as bot:
        await bot.ask("/subscribe tech", user_id=reader)
        old = int((datetime.now(UTC) - timedelta(hours=3)).timestamp())
        article_id = bot.scalar("SELECT MAX(id) FROM articles")
        await bot.write(
            "INSERT INTO dm_outbox (user_id, article_id, queued_at) VALUES (?, ?, ?)",
            (reader, article_id, old),
        )
        await poll_until(
            lambda: bot.scalar("SELECT state FROM dm_outbox WHERE user_id = ?", (reader,)) == "failed"
        )
        assert bot.scalar("SELECT last_error FROM dm_outbox WHERE user_id = ?", (reader,)) == "expired"
        assert len(bot.api.chat_messages(reader)) == 1  # only the /subscribe answer
