"""The freshness benchmark's sites: a timeline of stories, served per bot as RSS, with pings and a WebSub hub.

Kinds: "busy" publishes every `busy_period` s, "quiet" every three hours (history only during a run), "ping"
and "push" every 2 x `busy_period` s; each site starts at its own seeded phase. A site has 20 stories of
history before the run, spaced by its period, so a schedule that learns pace from entry dates can.
Every bot ("side") reads its own copy of every site under `/{side}/{site}/feed.xml`; when a ping site
publishes, it POSTs XML-RPC `weblogUpdates.ping` to the sides that have an HTTP server; a push site's feed
advertises the local WebSub hub (bot/sandbox/websub_hub.py, mounted at `/hub`) and notifies it.
"""

from __future__ import annotations

import asyncio
import random
import time
import xmlrpc.client
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from html import escape

import aiohttp
from aiohttp import web

from bot.sandbox.websub_hub import LocalHub

KINDS = ("busy", "quiet", "ping", "push")
HISTORY = 20
QUIET_PERIOD = 3 * 3600.0
SHOWN = 20  # items in a feed


@dataclass(frozen=True, slots=True)
class Story:
    site: str
    n: int
    shown_at: float  # wall clock (epoch seconds) when the site first showed it

    def url(self, origin: str, side: str) -> str:
        return f"{origin}/{side}/{self.site}/story/{self.n}"


class SiteFarm:
    def __init__(self, counts: dict[str, int], *, busy_period: float, sides: tuple[str, ...], seed: int = 7):
        self.kinds = {f"{kind}{i}": kind for kind in KINDS for i in range(counts.get(kind, 0))}
        self.busy_period = busy_period
        self.sides = sides
        self.rng = random.Random(seed)
        self.bot_urls: dict[str, str] = {}  # side -> its bot's HTTP server, for pings and hub callbacks
        self.stories: dict[str, list[Story]] = {}
        self.first_new: dict[str, int] = {}
        self._requests: dict[str, int] = dict.fromkeys(sides, 0)
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.origin = ""
        self.hub = LocalHub()
        now = time.time()
        for site, kind in self.kinds.items():
            period = self.period(kind)
            self.stories[site] = [Story(site, n, now - (HISTORY - n) * period) for n in range(HISTORY)]
            self.first_new[site] = HISTORY

    def period(self, kind: str) -> float:
        return {"busy": self.busy_period, "quiet": QUIET_PERIOD}.get(kind, 2 * self.busy_period)

    # -- serving -------------------------------------------------------------------------------------

    async def __aenter__(self) -> SiteFarm:
        app = web.Application()
        app.add_routes([web.get("/{side}/{site}/feed.xml", self._feed)])
        app.add_routes(self.hub.routes("/hub"))
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.origin = f"http://127.0.0.1:{port}"
        self.hub.url = f"{self.origin}/hub"
        self._session = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()
        await self.hub.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def feed_url(self, side: str, site: str) -> str:
        return f"{self.origin}/{side}/{site}/feed.xml"

    def feed_urls(self, side: str) -> list[str]:
        return [self.feed_url(side, site) for site in self.kinds]

    async def _feed(self, request: web.Request) -> web.Response:
        side, site = request.match_info["side"], request.match_info["site"]
        if side not in self._requests or site not in self.kinds:
            raise web.HTTPNotFound()
        if request.headers.get("User-Agent", "").startswith("newsbot"):  # not the hub fetching a topic
            self._requests[side] += 1
        return web.Response(body=self.render(side, site), content_type="application/rss+xml")

    def render(self, side: str, site: str) -> bytes:
        url = self.feed_url(side, site)
        hub = ""
        if self.kinds[site] == "push":
            hub = f'<atom:link rel="hub" href="{self.hub.url}"/><atom:link rel="self" href="{url}"/>'
        items = "".join(
            f"<item><title>{escape(site)} story {s.n}</title><link>{s.url(self.origin, side)}</link>"
            f"<guid>{s.url(self.origin, side)}</guid><description>What happened at {escape(site)} "
            f"in story {s.n}, in one line.</description>"
            f"<pubDate>{format_datetime(datetime.fromtimestamp(s.shown_at, UTC))}</pubDate></item>"
            for s in reversed(self.stories[site][-SHOWN:])
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
            'xmlns:atom="http://www.w3.org/2005/Atom"><channel>'
            f"<title>{escape(site)}</title><link>{self.origin}/{side}/{site}/</link>{hub}{items}"
            "</channel></rss>"
        ).encode()

    # -- counting and results -------------------------------------------------------------------------

    def reset_counts(self) -> None:
        self._requests = dict.fromkeys(self.sides, 0)

    def requests(self, side: str) -> int:
        return self._requests[side]

    def published(self, kind: str) -> Iterator[Story]:
        for site, site_kind in self.kinds.items():
            if site_kind == kind:
                yield from self.stories[site][self.first_new[site] :]

    async def wait_subscribed(self, side: str, timeout: float) -> None:
        """Until the hub has verified `side`'s subscription to every push site (when it has a server)."""
        if side not in self.bot_urls:
            return
        topics = [self.feed_url(side, s) for s, kind in self.kinds.items() if kind == "push"]
        deadline = time.monotonic() + timeout
        while not all(self.hub.active(topic) for topic in topics):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{side}: the hub never verified a subscription to every push site")
            await asyncio.sleep(0.1)

    # -- publishing -----------------------------------------------------------------------------------

    async def publish_for(self, duration: float) -> None:
        """Publish on every non-quiet site at its pace, at its own phase, for `duration` seconds."""
        started = time.monotonic()
        events = sorted(
            (self.rng.uniform(0, self.period(kind)) + k * self.period(kind), site)
            for site, kind in self.kinds.items()
            if kind != "quiet"
            for k in range(int(duration / self.period(kind)) + 1)
        )
        tasks = []
        for at, site in events:
            if at >= duration:
                continue
            await asyncio.sleep(max(0.0, started + at - time.monotonic()))
            tasks.append(asyncio.create_task(self._publish(site)))
        await asyncio.gather(*tasks)

    async def _publish(self, site: str) -> None:
        stories = self.stories[site]
        stories.append(Story(site, len(stories), time.time()))
        kind = self.kinds[site]
        assert self._session is not None
        for side in self.sides:
            if kind == "ping" and side in self.bot_urls:
                body = xmlrpc.client.dumps((site, f"{self.origin}/{side}/{site}/"), "weblogUpdates.ping")
                async with self._session.post(
                    f"{self.bot_urls[side]}/ping", data=body, headers={"Content-Type": "text/xml"}
                ) as response:
                    await response.read()
            elif kind == "push" and side in self.bot_urls:  # a side without a server never subscribed
                await self.hub.publish(self.feed_url(side, site))
