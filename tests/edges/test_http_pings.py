"""Update pings end to end: the real bot (its ingest process included) with HTTP_LISTEN, a feed server, and
pings over real HTTP. The poll interval is an hour, so only a ping explains a story read within seconds."""

from __future__ import annotations

import asyncio
import socket
import xmlrpc.client
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import aiohttp
import pytest

from bench.farm import free_port
from bot.core.errors import ConfigError
from bot.edges.app import serve
from bot.settings import load_settings
from tests.kits.chatkit import CHANNEL, ChatBot, poll_until, running_bot
from tests.kits.feedserver import RSS_TYPE, FeedServer

NOW = datetime.now(UTC)


def feed(site: str, stories: int) -> bytes:
    items = "".join(
        f"<item><title>Planet story {i}</title><link>{site}story/{i}</link><guid>{site}story/{i}</guid>"
        f"<description>What happened in story {i}, told in one line.</description>"
        f"<pubDate>{format_datetime(NOW - timedelta(minutes=60 - i))}</pubDate></item>"
        for i in range(stories)
    )
    return (
        f'<rss version="2.0"><channel><title>Daily Planet</title><link>{site}</link>{items}</channel></rss>'
    ).encode()


async def _chunked(body: bytes, size: int = 1000) -> AsyncIterator[bytes]:
    """`body` sent with chunked transfer encoding, a piece at a time."""
    for start in range(0, len(body), size):
        await asyncio.sleep(0)
        yield body[start : start + size]


async def channel_headlines(bot: ChatBot) -> list[str]:
    return [m.text.splitlines()[0] for m in bot.api.channel_posts(CHANNEL)]


@pytest.fixture
async def planet() -> AsyncIterator[FeedServer]:
    async with FeedServer() as server:
        server.route("/planet/feed/", feed(server.url("/planet/"), 1), content_type=RSS_TYPE)
        yield server


async def test_a_wordpress_ping_posts_the_new_story_at_once(planet: FeedServer, tmp_path: Path) -> None:
    port = free_port()
    site, feed_url = planet.url("/planet/"), planet.url("/planet/feed/")
    overrides = {"HTTP_LISTEN": f"127.0.0.1:{port}", "FEEDS": feed_url, "POLL_INTERVAL_SECONDS": "3600"}
    endpoint = f"http://127.0.0.1:{port}/ping"
    async with running_bot(tmp_path, articles=5, **overrides) as bot, aiohttp.ClientSession() as http:
        await poll_until(lambda: len(bot.api.channel_posts(CHANNEL)) == 1, timeout=20)  # the first sync
        reads = len(planet.requests_to("/planet/feed/"))
        feed_id = bot.scalar("SELECT id FROM feeds WHERE url = ?", (feed_url,))
        planet.route("/planet/feed/", feed(site, 2), content_type=RSS_TYPE)  # "Publish" pressed

        ping = xmlrpc.client.dumps(("Daily Planet", site), "weblogUpdates.ping").encode()
        async with http.post(endpoint, data=ping, headers={"Content-Type": "text/xml"}) as r:
            assert r.status == 200
            (answer,), _ = xmlrpc.client.loads(await r.read())
        assert answer == {"flerror": False, "message": "Thanks for the ping."}
        await poll_until(lambda: len(bot.api.channel_posts(CHANNEL)) == 2, timeout=10)
        assert "Planet story 1" in (await channel_headlines(bot))[-1]

        # more pings within 10 s: answered, read no more
        for _ in range(5):
            async with http.post(endpoint, data={"url": feed_url}) as r:
                assert r.status == 202
                assert await r.json() == {"ok": True, "feeds": [feed_id], "fetching": []}
        await asyncio.sleep(0.5)
        assert len(planet.requests_to("/planet/feed/")) == reads + 1

        # not ours, hostile, or too big: answered, nothing fetched, the bot goes on
        async with http.post(endpoint, json={"url": "https://elsewhere.example/"}) as r:
            assert r.status == 404
        other = xmlrpc.client.dumps(("x", planet.url("/elsewhere/")), "weblogUpdates.ping").encode()
        async with http.post(endpoint, data=other) as r:
            (answer,), _ = xmlrpc.client.loads(await r.read())
            assert (r.status, answer["flerror"]) == (200, True)
        bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><methodCall>&a;</methodCall>'
        async with http.post(endpoint, data=bomb) as r:
            assert r.status == 400
            (answer,), _ = xmlrpc.client.loads(await r.read())
            assert answer["flerror"] is True
        async with http.post(endpoint, data=b"url=" + b"x" * 70_000) as r:
            assert r.status == 413
        async with http.post(endpoint, data=_chunked(b"url=" + b"y" * 70_000)) as r:  # no length told
            assert r.status == 413
        # a webhook body that arrives in many pieces is read whole
        padding = " " * 30_000
        async with http.post(endpoint, data=_chunked(f'{{"url": "{feed_url}"{padding}}}'.encode())) as r:
            assert r.status == 202
        async with http.get(endpoint) as r:
            assert r.status == 405
        assert [r.path for r in planet.requests if r.path != "/planet/feed/"] == []
        assert len(planet.requests_to("/planet/feed/")) == reads + 1
        assert (await bot.ask("/latest 1")).text  # still answering


async def test_a_busy_port_stops_start_up_with_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        listen = f"127.0.0.1:{taken.getsockname()[1]}"
        settings = load_settings(
            None, BOT_TOKEN="1:x", DATABASE_PATH=str(tmp_path / "b.db"), HTTP_LISTEN=listen
        )
        with pytest.raises(ConfigError) as caught:
            await asyncio.wait_for(serve(settings, asyncio.Event()), timeout=20)
    assert str(caught.value).startswith(f"HTTP_LISTEN {listen}: cannot listen there: ")
    assert "\n" not in str(caught.value)
