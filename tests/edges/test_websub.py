"""WebSub end to end: the real bot (its ingest process included) with HTTP_LISTEN and PUBLIC_URL, the
project's local hub and a feed server, all over loopback HTTP. The poll interval is an hour, so only a push
explains a story posted within seconds."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import aiohttp
import pytest

from bench.farm import free_port
from bot.core.fetching import USER_AGENT
from bot.core.websub import sign
from bot.sandbox.websub_hub import LocalHub, serve_hub
from bot.settings import Settings
from tests.kits.chatkit import ADMIN, CHANNEL, ChatBot, poll_until, running_bot
from tests.kits.feedserver import RSS_TYPE, FeedServer

NOW = datetime.now(UTC)
MAX_BYTES = 64 * 1024


def pushed_bot(port: int, topic: str) -> dict[str, str]:
    """Settings of a bot reading `topic`, with its HTTP server on `port` and polling only hourly."""
    return {
        "HTTP_LISTEN": f"127.0.0.1:{port}",
        "PUBLIC_URL": f"http://127.0.0.1:{port}",
        "POLL_INTERVAL_SECONDS": "3600",
        "FEEDS": topic,
    }


def feed(site: str, hub: str, topic: str, stories: range) -> bytes:
    items = "".join(
        f"<item><title>Planet story {i}</title><link>{site}story/{i}</link><guid>{site}story/{i}</guid>"
        f"<description>What happened in story {i}, told in one line.</description>"
        f"<pubDate>{format_datetime(NOW - timedelta(minutes=60 - i))}</pubDate></item>"
        for i in stories
    )
    return (
        '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel><title>Daily Planet</title>'
        f'<link>{site}</link><atom:link rel="hub" href="{hub}"/><atom:link rel="self" href="{topic}"/>'
        f"{items}</channel></rss>"
    ).encode()


def bot_reads(server: FeedServer, path: str) -> int:
    return sum(r.headers.get("User-Agent") == USER_AGENT for r in server.requests_to(path))


def headlines(bot: ChatBot) -> list[str]:
    return [m.text.splitlines()[0] for m in bot.api.channel_posts(CHANNEL)]


@pytest.fixture
async def hub() -> AsyncIterator[LocalHub]:
    async with serve_hub(LocalHub(max_lease=3600)) as local:
        yield local


async def publish(http: aiohttp.ClientSession, hub: LocalHub, topic: str) -> None:
    async with http.post(hub.url, data={"hub.mode": "publish", "hub.url": topic}) as r:
        assert r.status == 202


async def test_a_published_story_is_pushed_to_the_channel_and_forgeries_are_ignored(
    hub: LocalHub, tmp_path: Path
) -> None:
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    overrides = {
        "HTTP_LISTEN": f"127.0.0.1:{port}",
        "PUBLIC_URL": public,
        "POLL_INTERVAL_SECONDS": "3600",
        "MAX_FEED_BYTES": str(MAX_BYTES),
        "ALLOW_PRIVATE_FEEDS": "false",  # a loopback feed may still name a loopback hub
    }
    async with FeedServer() as planet, aiohttp.ClientSession() as http:
        site, topic = planet.url("/planet/"), planet.url("/planet/feed/")
        planet.route("/planet/feed/", feed(site, hub.url, topic, range(1)), content_type=RSS_TYPE)
        async with running_bot(tmp_path, articles=5, FEEDS=topic, **overrides) as bot:
            # discovered on the first read, subscribed, verified by the hub
            await poll_until(lambda: len(bot.api.channel_posts(CHANNEL)) == 1, timeout=20)
            await hub.wait_for(lambda: bool(hub.active(topic)), timeout=20)
            (sub,) = hub.active(topic)
            assert sub.callback.startswith(f"{public}/websub/")
            assert sub.secret
            assert len(sub.secret) >= 32
            await poll_until(
                lambda: bot.scalar("SELECT COUNT(*) FROM websub WHERE state = 'verified'") == 1, timeout=5
            )
            assert "pushed, polled every" in (await bot.ask("/feeds", user_id=ADMIN)).text
            reads = bot_reads(planet, "/planet/feed/")
            articles = bot.scalar("SELECT COUNT(*) FROM articles")

            # "Publish" pressed: the site pings its hub, the hub pushes the feed, the story is posted
            planet.route("/planet/feed/", feed(site, hub.url, topic, range(2)), content_type=RSS_TYPE)
            started = time.monotonic()
            await publish(http, hub, topic)
            await poll_until(lambda: len(bot.api.channel_posts(CHANNEL)) == 2, timeout=10)
            latency = time.monotonic() - started  # polled hourly: only the push explains it (bench: p95)
            print(f"\npush -> channel: {latency * 1000:.0f} ms")
            assert "Planet story 1" in headlines(bot)[-1]
            assert bot_reads(planet, "/planet/feed/") == reads  # pushed, not fetched
            assert hub.kinds("delivered")

            # forged, unsigned or wrongly signed pushes: acknowledged, ignored, nothing stored
            forged = feed(site, hub.url, topic, range(2, 4))
            for signature in (None, "sha256=" + "0" * 64, sign("guessed-secret", forged), "sha1=zz"):
                headers = {"Content-Type": RSS_TYPE} | ({"X-Hub-Signature": signature} if signature else {})
                async with http.post(sub.callback, data=forged, headers=headers) as r:
                    assert r.status == 202
            # unknown callbacks, verification for what was never asked, oversized bodies
            async with http.post(f"{public}/websub/not-a-callback", data=forged) as r:
                assert r.status == 404
            never = {"hub.mode": "subscribe", "hub.topic": "https://elsewhere.example/", "hub.challenge": "x"}
            async with http.get(sub.callback, params=never) as r:
                assert r.status == 404
            leave = {"hub.mode": "unsubscribe", "hub.topic": topic, "hub.challenge": "x"}
            async with http.get(sub.callback, params=leave) as r:
                assert r.status == 404  # the bot never asked to leave
            async with http.get(f"{public}/websub/not-a-callback", params={**never, "hub.topic": topic}) as r:
                assert r.status == 404
            big = b"<rss>" + b"x" * MAX_BYTES
            signed = {"X-Hub-Signature": sign(sub.secret or "", big)}
            async with http.post(sub.callback, data=big, headers=signed) as r:
                assert r.status == 413

            async def chunks() -> AsyncIterator[bytes]:
                for _ in range(MAX_BYTES // 8192 + 2):
                    yield b"x" * 8192

            async with http.post(sub.callback, data=chunks(), headers=signed) as r:  # no Content-Length
                assert r.status == 413
            await asyncio.sleep(0.5)
            assert bot.scalar("SELECT COUNT(*) FROM articles") == articles + 1
            assert len(bot.api.channel_posts(CHANNEL)) == 2
            assert bot_reads(planet, "/planet/feed/") == reads
            assert (await bot.ask("/latest 1")).text  # still answering

            # removing the feed unsubscribes: the hub verifies it with the bot, then drops the callback
            feed_id = bot.scalar("SELECT id FROM feeds WHERE url = ?", (topic,))
            assert "removed" in (await bot.ask(f"/removefeed {feed_id}", user_id=ADMIN)).text
            await hub.wait_for(lambda: bool(hub.kinds("unsubscribed")), timeout=10)
            assert hub.active(topic) == []
            await poll_until(lambda: bot.scalar("SELECT COUNT(*) FROM websub") == 0, timeout=5)
            async with http.post(sub.callback, data=forged, headers=signed) as r:
                assert r.status == 404


async def test_without_public_url_the_bot_never_subscribes(hub: LocalHub, tmp_path: Path) -> None:
    port = free_port()
    async with FeedServer() as planet:
        site, topic = planet.url("/planet/"), planet.url("/planet/feed/")
        planet.route("/planet/feed/", feed(site, hub.url, topic, range(1)), content_type=RSS_TYPE)
        overrides = {"HTTP_LISTEN": f"127.0.0.1:{port}", "POLL_INTERVAL_SECONDS": "3600", "FEEDS": topic}
        async with running_bot(tmp_path, articles=5, **overrides) as bot:
            await poll_until(lambda: len(bot.api.channel_posts(CHANNEL)) == 1, timeout=20)
            await poll_until(
                lambda: bot.scalar("SELECT websub_hub FROM feeds WHERE url = ?", (topic,)) == hub.url,
                timeout=5,
            )
            await asyncio.sleep(1.0)
            assert hub.events == []
            assert bot.scalar("SELECT COUNT(*) FROM websub") == 0
            assert "polled every" in (await bot.ask("/feeds", user_id=ADMIN)).text


async def test_a_denied_subscription_falls_back_to_polling_and_says_so(tmp_path: Path) -> None:
    port = free_port()
    async with FeedServer() as planet:
        site, topic = planet.url("/planet/"), planet.url("/planet/feed/")
        async with serve_hub(LocalHub(deny={topic})) as hub:
            planet.route("/planet/feed/", feed(site, hub.url, topic, range(1)), content_type=RSS_TYPE)
            overrides = pushed_bot(port, topic)
            async with running_bot(tmp_path, articles=5, **overrides) as bot:
                await hub.wait_for(lambda: bool(hub.kinds("denied")), timeout=20)
                await poll_until(
                    lambda: bot.scalar("SELECT COUNT(*) FROM websub WHERE state = 'denied'") == 1, timeout=5
                )
                text = (await bot.ask("/feeds", user_id=ADMIN)).text
                assert (
                    "WebSub denied: denied by the hub: this topic takes no subscribers here; polled" in text
                )
                aliases = {field.alias for field in Settings.model_fields.values()}
                env = {k: v for k, v in os.environ.items() if k not in aliases}
                env |= {"DATABASE_PATH": str(bot.db_path), "LOG_LEVEL": "WARNING", "PARSE_WORKERS": "1"}
                proc = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "bot", "feeds", "list", cwd=tmp_path, env=env,
                    stdout=asyncio.subprocess.PIPE,
                )  # fmt: skip
                out, _ = await proc.communicate()
                assert proc.returncode == 0
                (line,) = [x for x in out.decode().splitlines() if topic in x]
                assert "; polled" in line
                assert line.endswith(
                    "WebSub denied: denied by the hub: this topic takes no subscribers here; polled"
                )


async def test_a_short_lease_is_renewed_before_it_ends(tmp_path: Path) -> None:
    port = free_port()
    # 8 s: renewed at 6 s, leaving the 2 s a loaded CI machine may need for the request and the hub's check
    async with FeedServer() as planet, serve_hub(LocalHub(max_lease=8)) as hub:
        site, topic = planet.url("/planet/"), planet.url("/planet/feed/")
        planet.route("/planet/feed/", feed(site, hub.url, topic, range(1)), content_type=RSS_TYPE)
        overrides = pushed_bot(port, topic)
        async with running_bot(tmp_path, articles=5, **overrides) as bot:
            await hub.wait_for(lambda: bool(hub.kinds("subscribed")), timeout=20)
            await hub.wait_for(lambda: len(hub.kinds("subscribed")) >= 3, timeout=40)  # renewed twice
            assert hub.active(topic)  # never lapsed in between: the hub's lease ran on
            assert not hub.kinds("verify_failed")
            assert {e.callback for e in hub.kinds("subscribed")} == {hub.active(topic)[0].callback}
            assert bot.scalar("SELECT COUNT(*) FROM websub WHERE state = 'verified'") == 1
