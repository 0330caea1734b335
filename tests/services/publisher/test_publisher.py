"""The publisher on the real python-telegram-bot Application against the local Bot API, over loopback HTTP.

Articles are stored through ArticleRepo (as the ingest cycle stores them) into a real SQLite file; every
fault is the stand-in's: 429s (injected and its own flood windows), 5xx, outages, hangs, 403, bad HTML.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from bot.adapters.db import Database
from bot.core.telegram_html import parse_html
from bot.edges.app import serve
from bot.sandbox.botapi import LocalBotAPI
from bot.settings import Settings
from tests.kits.outboxkit import (
    ADMINS,
    CHANNEL,
    TOKEN,
    article,
    assert_each_once,
    fast_config,
    posts_of,
    running_publisher,
    settings_for,
    states,
    store,
    story_order,
    wait_states,
)


async def test_newsbot_run_posts_each_article_once_and_a_restart_posts_nothing_again(
    api: LocalBotAPI, settings: Settings
) -> None:
    stop = asyncio.Event()
    bot_task = asyncio.create_task(serve(settings, stop))
    await api.wait_until(lambda: bool(api.calls("getUpdates")) or bot_task.done(), timeout=10)
    async with Database(settings.database_path) as db:  # a second connection, like the ingest loop's writes
        await store(db, [article(1), article(2), article(3)])
        await api.wait_until(lambda: len(api.channel_posts(CHANNEL)) == 3, timeout=10)
        await wait_states(db, {"sent": 3})
    stop.set()
    await asyncio.wait_for(bot_task, 15)

    first = api.channel_posts(CHANNEL)[0]
    assert (
        first.text == "Headline number 1\n\nThe dek of story 1, in one sentence.\n\nRead more at News Example"
    )
    assert first.parse_mode == "HTML"
    assert [e["type"] for e in first.entities] == ["bold", "text_link"]
    assert first.entities[1]["url"] == "https://news.example/story/1"
    assert first.link_preview_options == {"url": "https://news.example/story/1", "prefer_large_media": True}
    assert not first.disable_notification
    assert story_order(api) == [1, 2, 3]

    sends = len(api.calls("sendMessage"))
    stop = asyncio.Event()
    bot_task = asyncio.create_task(serve(settings, stop))
    await api.wait_until(lambda: len(api.calls("getMe")) >= 2 or bot_task.done(), timeout=10)
    async with Database(settings.database_path) as db:
        await store(
            db, [article(1), article(2), article(3), article(4)]
        )  # 1-3 again from the feed: stored once
        await api.wait_until(lambda: len(api.channel_posts(CHANNEL)) == 4, timeout=10)
        await asyncio.sleep(0.7)  # more than a poll: anything resent would show
        assert await states(db) == {"sent": 4}
    stop.set()
    await asyncio.wait_for(bot_task, 15)
    assert len(api.calls("sendMessage")) == sends + 1
    assert_each_once(api, range(1, 5))


async def test_429_waits_retry_after_and_retries_the_same_message(
    api: LocalBotAPI, settings: Settings
) -> None:
    api.fail_next("sendMessage", status=429, retry_after=1, count=2)
    async with running_publisher(settings) as run:
        started = time.monotonic()
        await store(run.db, [article(1), article(2), article(3)])
        await wait_states(run.db, {"sent": 3})
        elapsed = time.monotonic() - started
    assert api.count_429 == 2
    assert elapsed >= 2.0  # two retry_after waits of a second, not a hot loop
    calls = api.calls("sendMessage")
    assert len(calls) == 5
    assert all("story/1" in c["text"] for c in calls[:3])  # the same message, retried first
    assert story_order(api) == [1, 2, 3]
    assert_each_once(api, range(1, 4))


async def test_stand_in_flood_window_is_survived(tmp_path: Path) -> None:
    # the bot believes 20 a minute; this "Telegram" allows 2 a second and answers 429 beyond
    async with LocalBotAPI(TOKEN, channel_limit=(2, 1.0)) as api:
        api.add_chat(CHANNEL, title="News")
        async with running_publisher(settings_for(api, tmp_path / "n.db")) as run:
            await store(run.db, [article(i) for i in range(1, 6)])
            await wait_states(run.db, {"sent": 5}, timeout=15)
        assert api.count_429 >= 1
        assert story_order(api) == list(range(1, 6))
        assert_each_once(api, range(1, 6))


async def test_pacing_keeps_under_the_channel_limit_with_zero_429s(tmp_path: Path) -> None:
    # the same strict "Telegram", and the publisher paced to it: a burst goes out without a single 429
    async with LocalBotAPI(TOKEN, channel_limit=(3, 1.0)) as api:
        api.add_chat(CHANNEL, title="News")
        config = fast_config(posts_per_window=3, window_seconds=1.0)
        async with running_publisher(settings_for(api, tmp_path / "n.db"), config) as run:
            started = time.monotonic()
            await store(run.db, [article(i) for i in range(1, 10)])
            await wait_states(run.db, {"sent": 9}, timeout=15)
            elapsed = time.monotonic() - started
            stats = await run.publisher.stats()
        assert api.count_429 == 0
        assert 2.0 <= elapsed < 6.0  # 9 posts at 3 a second: two full windows of waiting
        assert story_order(api) == list(range(1, 10))
        assert stats.latency_samples == 9
        assert stats.latency_p50_ms is not None
        assert stats.latency_p99_ms is not None
        assert 0 <= stats.latency_p50_ms <= stats.latency_p99_ms < 6000


async def test_5xx_and_an_outage_are_retried_with_backoff(api: LocalBotAPI, settings: Settings) -> None:
    api.fail_next("sendMessage", status=500, count=2)
    async with running_publisher(settings, fast_config(backoff_base=0.1)) as run:
        await store(run.db, [article(1), article(2)])
        await wait_states(run.db, {"sent": 2})
        api.set_outage(True)
        await store(run.db, [article(3), article(4)])
        await api.wait_until(lambda: api.count_errors >= 4, timeout=10)
        assert len(api.channel_posts(CHANNEL)) == 2
        api.set_outage(False)
        await wait_states(run.db, {"sent": 4}, timeout=15)
    assert story_order(api) == [1, 2, 3, 4]
    assert_each_once(api, range(1, 5))


async def test_timeout_is_in_flight_not_resent_by_default(api: LocalBotAPI, settings: Settings) -> None:
    # Telegram got the request but the answer is late: the message is posted, the bot cannot know
    api.hang_next("sendMessage", 1.5)
    async with running_publisher(settings, timeout=0.5) as run:
        await store(run.db, [article(1), article(2)])
        await wait_states(run.db, {"unknown": 1, "sent": 1})
        await api.wait_until(lambda: len(api.channel_posts(CHANNEL)) == 2, timeout=5)
        stats = await run.publisher.stats()
        status = await run.publisher.status_text()
    assert_each_once(api, range(1, 3))
    assert [u.url for u in stats.unknown] == ["https://news.example/story/1"]
    assert "may or may not be in the channel" in status


async def test_timeout_with_inflight_resend_is_at_least_once(api: LocalBotAPI, settings: Settings) -> None:
    api.hang_next("sendMessage", 1.5)
    config = fast_config(resend_in_flight=True, backoff_base=0.1)
    async with running_publisher(settings, config, timeout=0.5) as run:
        await store(run.db, [article(1), article(2)])
        await wait_states(run.db, {"sent": 2})
        await api.wait_until(lambda: len(api.channel_posts(CHANNEL)) == 3, timeout=5)
    assert len(posts_of(api, 1)) == 2  # the documented price of INFLIGHT_POLICY=resend
    assert len(posts_of(api, 2)) == 1


async def test_bad_html_answer_falls_back_once_to_plain_text(api: LocalBotAPI, settings: Settings) -> None:
    refused = 'Bad Request: can\'t parse entities: Unsupported start tag "x" at byte offset 3'
    api.fail_next("sendMessage", status=400, description=refused)
    async with running_publisher(settings) as run:
        await store(run.db, [article(1)])
        await wait_states(run.db, {"sent": 1})
        api.fail_next("sendMessage", status=400, description=refused, count=2)
        await store(run.db, [article(2), article(3)])
        await wait_states(run.db, {"sent": 2, "failed": 1})
        stats = await run.publisher.stats()
    plain = api.channel_posts(CHANNEL)[0]
    assert plain.parse_mode is None
    assert plain.text == (
        "Headline number 1\n\nThe dek of story 1, in one sentence.\n\nhttps://news.example/story/1"
    )
    assert story_order_loose(api) == [1, 3]
    assert stats.last_error is not None
    assert "can't parse entities" in stats.last_error.lower()


def story_order_loose(api: LocalBotAPI) -> list[int]:
    """Story numbers in channel order, from the link entity or, for plain-text posts, the trailing URL."""
    order = []
    for post in api.channel_posts(CHANNEL):
        url = post.text.rsplit("\n", 1)[-1] if post.parse_mode is None else post.entities[-1]["url"]
        order.append(int(url.rsplit("/", 1)[1]))
    return order


async def test_chat_not_found_pauses_that_channel_and_keeps_its_posts_queued(
    api: LocalBotAPI, settings: Settings
) -> None:
    lost = "-1005550000000"  # a wrong CHANNEL_ID, or a topic channel the bot is not in: 400 chat not found
    async with running_publisher(settings) as run:
        await store(run.db, [article(1), article(3)], channel=lost)
        await store(run.db, [article(2)])
        await api.wait_until(lambda: bool(api.chat_messages(ADMINS[0])), timeout=5)
        await wait_states(run.db, {"queued": 2, "sent": 1})
        await asyncio.sleep(0.3)  # several polls: no retry loop, no second notice
        assert await states(run.db) == {"queued": 2, "sent": 1}
        paused = await run.db.fetchone(
            "SELECT paused, paused_reason FROM channels WHERE chat_id = ?", (lost,)
        )
        queued = await run.db.fetchall("SELECT last_error FROM outbox WHERE state = 'queued'")
    assert paused is not None
    assert paused[0] == 1
    assert "chat not found" in str(paused[1]).lower()
    assert [r[0] for r in queued].count(None) == 1  # the head was tried once, the one behind it not at all
    to_lost = [c for c in api.calls("sendMessage") if str(c["chat_id"]) == lost]
    assert len(to_lost) == 1
    notices = [m for m in api.chat_messages(ADMINS[0]) if "is paused" in m.text]
    assert len(notices) == 1
    assert lost in notices[0].text
    assert_each_once(api, range(2, 3))


async def test_a_post_that_cannot_render_fails_cleanly_and_the_rest_go_out(
    api: LocalBotAPI, settings: Settings
) -> None:
    config = fast_config(template="<b>{headline}</b>\n{url}", text_limit=200)
    async with running_publisher(settings, config) as run:
        await store(run.db, [article(1, url="https://news.example/" + "x" * 300), article(2)])
        await wait_states(run.db, {"failed": 1, "sent": 1})
        row = await run.db.fetchone("SELECT last_error FROM outbox WHERE state = 'failed'")
    assert row is not None
    assert "does not fit 200 characters" in row[0]
    assert api.channel_posts(CHANNEL)[0].text == "Headline number 2\nhttps://news.example/story/2"


async def test_hostile_headlines_never_break_a_post_or_inject_formatting(
    api: LocalBotAPI, settings: Settings
) -> None:
    hostile = [
        ('<script>alert("x")</script> & <b>bold?</b>', "Tom &amp; Jerry&nbsp;<i>not italic</i> </b>"),
        ("AT&T &nbsp; R&D", '<a href="javascript:alert(1)">click</a>'),
        ("🚀" * 10 + " <tg-spoiler>", "&lt;escaped&gt; & &#60;numeric&#62;"),
    ]
    async with running_publisher(settings) as run:
        await store(run.db, [article(i, headline=h, dek=d) for i, (h, d) in enumerate(hostile, 1)])
        await wait_states(run.db, {"sent": 3})
    posts = api.channel_posts(CHANNEL)
    assert api.count_errors == 0
    for post, (headline, dek) in zip(posts, hostile, strict=True):
        assert post.text.startswith(f"{headline}\n\n{dek}\n\n")
        assert [e["type"] for e in post.entities] == ["bold", "text_link"]
        assert parse_html(post.html).text == post.text
