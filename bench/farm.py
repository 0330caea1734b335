"""A loopback farm of WordPress-style feeds served from a separate process, for the ingest benchmark.

Feeds are spread over many loopback addresses (127.0.0.2, 127.0.0.3, …) so per-host limits behave as
they would against many news sites. Every feed has a stable ETag and Last-Modified, so a second cycle
is all 304s.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import multiprocessing.synchronize
import random
import socket
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from aiohttp import web

HOSTS = 25
WORDS = (
    "council",
    "budget",
    "river",
    "storm",
    "election",
    "minister",
    "school",
    "hospital",
    "market",
    "energy",
    "transport",
    "harbour",
    "football",
    "museum",
    "court",
    "police",
    "festival",
    "climate",
    "housing",
    "water",
    "rail",
    "airport",
    "union",
    "farmers",
    "bank",
    "report",
    "inquiry",
    "vote",
    "mayor",
    "science",
    "health",
    "research",
    "city",
    "county",
    "village",
    "coast",
)


def _sentence(rng: random.Random, n: int) -> str:
    words = [rng.choice(WORDS) for _ in range(n)]
    return " ".join(words).capitalize() + "."


def make_feed(index: int, items: int = 40, now: datetime | None = None) -> bytes:
    """One WordPress RSS 2.0 feed of about 150 KB with content:encoded, deterministic per index."""
    rng = random.Random(index)
    now = now or datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    site = f"https://site{index}.example"
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:media="http://search.yahoo.com/mrss/">\n'
        f"<channel><title>Site {index} News</title><link>{site}/</link>"
        f"<description>News from site {index}</description><language>en-GB</language>"
        "<generator>https://wordpress.org/?v=6.6</generator>\n"
    ]
    for j in range(items):
        published = now - timedelta(minutes=37 * j + index % 30)
        title = _sentence(rng, 9)[:-1]
        dek = " ".join(_sentence(rng, 14) for _ in range(3))
        body = "".join(f"<p>{' '.join(_sentence(rng, 16) for _ in range(4))}</p>\n" for _ in range(6))
        slug = "-".join(title.lower().split()[:6])
        cats = "".join(f"<category><![CDATA[{c}]]></category>" for c in rng.sample(WORDS, 3))
        parts.append(
            f"<item><title>{title} &#8216;{j}&#8217;</title>"
            f"<link>{site}/{published:%Y/%m/%d}/{slug}-{j}/</link>"
            f"<dc:creator><![CDATA[Reporter {j % 7}]]></dc:creator>"
            f"<pubDate>{format_datetime(published)}</pubDate>{cats}"
            f'<guid isPermaLink="false">{site}/?p={index * 1000 + j}</guid>'
            f'<description><![CDATA[<p>{dek} [&hellip;]</p>\n<p>The post <a href="{site}/{slug}">{title}</a>'
            f' appeared first on <a href="{site}">Site {index} News</a>.</p>]]></description>'
            f'<content:encoded><![CDATA[{body}<figure><img src="{site}/img/{j}.jpg" alt=""/></figure>]]>'
            "</content:encoded>"
            f'<media:content url="{site}/img/{j}.jpg" medium="image" width="1200" height="800"/>'
            "</item>\n"
        )
    parts.append("</channel></rss>\n")
    return "".join(parts).encode()


def _serve(
    port: int, n_feeds: int, ready: multiprocessing.synchronize.Event, stop: multiprocessing.synchronize.Event
) -> None:
    bodies = [make_feed(i) for i in range(n_feeds)]
    last_modified = "Sun, 29 Nov 2026 12:00:00 GMT"

    async def handle(request: web.Request) -> web.StreamResponse:
        index = int(request.match_info["index"])
        if index >= n_feeds:
            raise web.HTTPNotFound()
        etag = f'"feed-{index}-v1"'
        headers = {
            "ETag": etag,
            "Last-Modified": last_modified,
            "Content-Type": "application/rss+xml; charset=UTF-8",
        }
        if (
            request.headers.get("If-None-Match") == etag
            or request.headers.get("If-Modified-Since") == last_modified
        ):
            return web.Response(status=304, headers={"ETag": etag, "Last-Modified": last_modified})
        return web.Response(body=bodies[index], headers=headers)

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/feed/{index}.xml", handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        for h in range(HOSTS):
            await web.TCPSite(runner, f"127.0.0.{h + 2}", port, backlog=1024).start()
        ready.set()
        while not stop.is_set():
            await asyncio.sleep(0.2)
        await runner.cleanup()

    asyncio.run(main())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.2", 0))
        return int(s.getsockname()[1])


class Farm:
    """`with Farm(1000) as farm: farm.urls` — the feeds are served until the block ends."""

    def __init__(self, n_feeds: int) -> None:
        self.n_feeds = n_feeds
        self.port = free_port()
        ctx = multiprocessing.get_context("spawn")
        self._ready = ctx.Event()
        self._stop = ctx.Event()
        self._proc = ctx.Process(
            target=_serve, args=(self.port, n_feeds, self._ready, self._stop), daemon=True
        )

    @property
    def urls(self) -> list[str]:
        return [f"http://127.0.0.{i % HOSTS + 2}:{self.port}/feed/{i}.xml" for i in range(self.n_feeds)]

    def __enter__(self) -> Farm:
        self._proc.start()
        for _ in range(1200):
            if self._ready.wait(0.1):
                return self
            if not self._proc.is_alive():
                break
        raise RuntimeError("feed farm did not start")

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._proc.join(10)
        if self._proc.is_alive():
            self._proc.kill()
