"""Subscription requests to a hub over loopback: accepted, refused with a reason, unreachable, and a
private hub named by a public feed refused before any request."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from bot.adapters.fetcher import make_client
from bot.adapters.hub_client import HubClient

FIELDS = {"hub.mode": "subscribe", "hub.topic": "https://news.example/feed/", "hub.callback": "https://b/cb"}


@pytest.fixture
async def hub() -> AsyncIterator[tuple[str, list[dict[str, str]]]]:
    seen: list[dict[str, str]] = []

    async def handle(request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        seen.append(form)
        if request.path == "/refuse":
            return web.Response(status=400, text="hub.topic is not served here\nmore detail")
        if request.path == "/slow":
            await asyncio.sleep(2)
        return web.Response(status=202)

    app = web.Application()
    app.router.add_post("/{name}", handle)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.2)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}", seen
    finally:
        await runner.cleanup()


async def test_accepted_refused_and_unreachable(hub: tuple[str, list[dict[str, str]]]) -> None:
    base, seen = hub
    client = make_client(timeout=0.5, per_host=2)
    try:
        hubs = HubClient(client, timeout=0.5)
        ok = await hubs.request(f"{base}/hub", FIELDS, origin="http://127.0.0.1/feed")
        assert (ok.accepted, ok.status, ok.reason) == (True, 202, "HTTP 202")
        assert seen == [FIELDS]
        refused = await hubs.request(f"{base}/refuse", FIELDS, origin="http://127.0.0.1/feed")
        assert (refused.accepted, refused.status) == (False, 400)
        assert refused.reason == "the hub answered HTTP 400: hub.topic is not served here"
        slow = await hubs.request(f"{base}/slow", FIELDS, origin="http://127.0.0.1/feed")
        assert (slow.accepted, slow.status, slow.reason) == (
            False,
            None,
            "the hub did not answer within 0.5 s",
        )
        gone = await hubs.request("http://127.0.0.1:9/hub", FIELDS, origin="http://127.0.0.1/feed")
        assert not gone.accepted
        assert gone.reason.startswith("cannot reach the hub")
        assert not (await hubs.request("ftp://hub.example/", FIELDS, origin="x")).accepted
    finally:
        await client.aclose()


async def test_a_public_feed_may_not_send_the_bot_to_a_private_hub(
    hub: tuple[str, list[dict[str, str]]],
) -> None:
    base, seen = hub

    async def private(url: str) -> bool:
        return "127.0.0.1" in url

    client = make_client(timeout=2, per_host=2)
    try:
        strict = HubClient(client, allow_private=False, private_check=private)
        refused = await strict.request(f"{base}/hub", FIELDS, origin="https://public.example/feed")
        assert not refused.accepted
        assert refused.reason == "hub at 127.0.0.1 refused: it is a private or local address"
        assert seen == []
        # a private feed (the operator's own) may use a private hub
        assert (await strict.request(f"{base}/hub", FIELDS, origin="http://127.0.0.1:1/feed")).accepted
    finally:
        await client.aclose()
