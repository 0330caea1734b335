"""The local WebSub hub against good and bad subscribers: intent verified, leases honoured, content signed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from aiohttp import web

from bot.core.websub import Signature, check_signature
from bot.sandbox.websub_hub import LocalHub, serve_hub
from tests.kits.feedserver import RSS_TYPE, FeedServer

SECRET = "a-subscriber-secret"
SUBSCRIBE = {"hub.mode": "subscribe", "hub.callback": "https://c.example/", "hub.topic": "https://t/"}
BODY = b'<rss version="2.0"><channel><title>T</title></channel></rss>'


@dataclass
class Subscriber:
    """A test subscriber: answers verification as told (`echo`), records what it gets."""

    echo: str = "right"  # right | wrong | extra-newline | refuse
    push_status: int = 204
    gets: list[dict[str, str]] = field(default_factory=list)
    posts: list[tuple[bytes, dict[str, str]]] = field(default_factory=list)
    url: str = ""

    async def get(self, request: web.Request) -> web.Response:
        query = {k: v for k, v in request.query.items()}
        self.gets.append(query)
        challenge = query.get("hub.challenge", "")
        if self.echo == "refuse":
            return web.Response(status=404)
        if self.echo == "wrong":
            return web.Response(text="not-the-challenge")
        if self.echo == "extra-newline":
            return web.Response(text=challenge + "\n")
        return web.Response(text=challenge)

    async def post(self, request: web.Request) -> web.Response:
        self.posts.append((await request.read(), dict(request.headers)))
        return web.Response(status=self.push_status)


@pytest.fixture
async def subscriber() -> AsyncIterator[Subscriber]:
    sub = Subscriber()
    app = web.Application()
    app.add_routes([web.get("/cb/{x}", sub.get), web.post("/cb/{x}", sub.post)])
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    sub.url = f"http://127.0.0.1:{runner.addresses[0][1]}/cb/one?keep=me"
    try:
        yield sub
    finally:
        await runner.cleanup()


@pytest.fixture
async def topic() -> AsyncIterator[tuple[FeedServer, str]]:
    async with FeedServer() as server:
        server.route("/feed/", BODY, content_type=RSS_TYPE)
        yield server, server.url("/feed/")


async def form(hub: LocalHub, **fields: str) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(hub.url, data={k.replace("_", "."): v for k, v in fields.items()}) as r,
    ):
        return r.status, await r.text()


async def test_a_correct_subscriber_is_verified_and_gets_signed_content(
    subscriber: Subscriber, topic: tuple[FeedServer, str]
) -> None:
    _, feed = topic
    async with serve_hub(LocalHub(max_lease=600)) as hub:
        status, _ = await form(
            hub, hub_mode="subscribe", hub_callback=subscriber.url, hub_topic=feed, hub_secret=SECRET,
            hub_lease_seconds="999999",
        )  # fmt: skip
        assert status == 202
        await hub.wait_for(lambda: bool(hub.kinds("subscribed")))
        (verification,) = subscriber.gets
        assert verification["keep"] == "me"  # the callback's own query is kept
        assert (verification["hub.mode"], verification["hub.topic"]) == ("subscribe", feed)
        assert verification["hub.lease_seconds"] == "600"  # capped by the hub
        assert await form(hub, hub_mode="publish", hub_url=feed) == (202, "")
        await hub.wait_for(lambda: bool(hub.kinds("delivered")))
        (body, headers) = subscriber.posts[0]
        assert body == BODY
        assert headers["Content-Type"] == RSS_TYPE
        assert headers["X-Hub-Signature"].startswith("sha256=")
        assert check_signature(SECRET, body, headers["X-Hub-Signature"]) is Signature.VALID
        assert f'<{hub.url}>; rel="hub"' in headers["Link"]
        assert f'<{feed}>; rel="self"' in headers["Link"]

        # unsubscribing is verified too; afterwards nothing is delivered
        status, _ = await form(hub, hub_mode="unsubscribe", hub_callback=subscriber.url, hub_topic=feed)
        assert status == 202
        await hub.wait_for(lambda: bool(hub.kinds("unsubscribed")))
        assert subscriber.gets[-1]["hub.mode"] == "unsubscribe"
        assert "hub.lease_seconds" not in subscriber.gets[-1]
        await hub.publish(feed)
        assert len(subscriber.posts) == 1


@pytest.mark.parametrize("echo", ["wrong", "extra-newline", "refuse"])
async def test_a_subscriber_that_does_not_echo_the_challenge_exactly_is_not_subscribed(
    subscriber: Subscriber, topic: tuple[FeedServer, str], echo: str
) -> None:
    _, feed = topic
    subscriber.echo = echo
    async with serve_hub() as hub:
        await form(hub, hub_mode="subscribe", hub_callback=subscriber.url, hub_topic=feed, hub_secret=SECRET)
        await hub.wait_for(lambda: bool(hub.kinds("verify_failed")))
        assert hub.subscriptions == {}
        await hub.publish(feed)
        assert subscriber.posts == []


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"hub.mode": "subscribe", "hub.topic": "https://t.example/"}, "absolute"),
        ({**SUBSCRIBE, "hub.callback": "/relative"}, "absolute"),
        ({**SUBSCRIBE, "hub.callback": "https://c.example/#x"}, "absolute"),
        ({**SUBSCRIBE, "hub.secret": "x" * 200}, "secret"),
        ({**SUBSCRIBE, "hub.lease_seconds": "-5"}, "lease"),
        ({**SUBSCRIBE, "hub.mode": "watch"}, "hub.mode"),
        ({"hub.mode": "publish"}, "hub.url"),
    ],
)
async def test_malformed_requests_get_400_with_a_reason(fields: dict[str, str], reason: str) -> None:
    async with serve_hub() as hub, aiohttp.ClientSession() as http:
        async with http.post(hub.url, data=fields) as r:
            assert r.status == 400
            assert reason in await r.text()
        async with http.post(hub.url, json={"hub.mode": "publish", "hub.url": "https://t/"}) as r:
            assert r.status == 400  # form bodies only
        assert hub.events == []


async def test_a_lease_ends_deliveries_and_410_ends_the_subscription(
    subscriber: Subscriber, topic: tuple[FeedServer, str]
) -> None:
    _, feed = topic
    async with serve_hub(LocalHub(max_lease=1)) as hub:
        await form(hub, hub_mode="subscribe", hub_callback=subscriber.url, hub_topic=feed)
        await hub.wait_for(lambda: bool(hub.kinds("subscribed")))
        await hub.publish(feed)
        (_, headers) = subscriber.posts[0]
        assert "X-Hub-Signature" not in headers  # no secret given, none sent
        await asyncio.sleep(1.1)
        await hub.publish(feed)
        assert len(subscriber.posts) == 1  # the lease is over

        await form(hub, hub_mode="subscribe", hub_callback=subscriber.url, hub_topic=feed)
        await hub.wait_for(lambda: len(hub.kinds("subscribed")) == 2)
        subscriber.push_status = 410
        await hub.publish(feed)
        assert hub.subscriptions == {}
        assert "410" in hub.kinds("delivery_failed")[-1].detail


async def test_a_denied_topic_gets_a_denial_at_the_callback(
    subscriber: Subscriber, topic: tuple[FeedServer, str]
) -> None:
    _, feed = topic
    async with serve_hub(LocalHub(deny={feed})) as hub:
        await form(hub, hub_mode="subscribe", hub_callback=subscriber.url, hub_topic=feed)
        await hub.wait_for(lambda: bool(hub.kinds("denied")))
        (denial,) = subscriber.gets
        assert (denial["hub.mode"], denial["hub.topic"]) == ("denied", feed)
        assert "hub.challenge" not in denial
        assert denial["hub.reason"]
        assert hub.subscriptions == {}


def test_callback_query_is_kept() -> None:
    from bot.sandbox.websub_hub import _with_query  # noqa: PLC0415

    url = _with_query("https://c.example/cb?id=1", {"hub.mode": "subscribe"})
    assert parse_qs(urlsplit(url).query) == {"id": ["1"], "hub.mode": ["subscribe"]}
