"""The sample news sites over HTTP (aiohttp): feeds with conditional GET, article pages with og tags, images.

What the items say and how feeds look is `feeds`' job; the live channel page is `page`'s.
"""

from __future__ import annotations

import math
import random
import struct
import zlib
from functools import lru_cache
from html import escape
from urllib.parse import urlsplit

from aiohttp import web

from bot.sandbox.feeds import CONTENT_TYPES, RENDERERS, Item, Newsroom
from bot.sandbox.stories import PUBLICATIONS, Publication, publication

NEWSROOM_KEY = web.AppKey("newsroom", Newsroom)
HUB_PATH_KEY = web.AppKey("hub_path", str)
_PAGE_STYLE = (
    "body{font:17px/1.6 system-ui,sans-serif;max-width:44rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}"
    "img{max-width:100%;height:auto;border-radius:8px}.dek{font-size:1.2rem;color:#444}a{color:#0b57d0}"
)


def add_site_routes(app: web.Application, newsroom: Newsroom, *, hub_path: str = "") -> None:
    """Serve every publication under /<key>/ and the placeholder images under /img/. With `hub_path` (a
    WebSub hub on the same server), the feeds of publications that push advertise it."""
    app[NEWSROOM_KEY] = newsroom
    app[HUB_PATH_KEY] = hub_path
    for pub in PUBLICATIONS:
        app.router.add_get(f"/{pub.key}/{pub.feed_path}", _feed)
        app.router.add_get(f"/{pub.key}/", _home)
        app.router.add_get(f"/{pub.key}/{{tail:.+}}", _article)
    app.router.add_get("/img/{key}/{post_id:\\d+}.png", _image)


def _base(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


def _pub(request: web.Request) -> Publication:
    return publication(request.path.strip("/").split("/", 1)[0])


async def _feed(request: web.Request) -> web.Response:
    pub = _pub(request)
    newsroom = request.app[NEWSROOM_KEY]
    updated = newsroom.updated_at[pub.key]
    etag = f'"{pub.key}-{newsroom.version[pub.key]}"'
    last_modified = updated.strftime("%a, %d %b %Y %H:%M:%S GMT")
    headers = {"ETag": etag, "Last-Modified": last_modified, "Cache-Control": "max-age=0"}
    if request.headers.get("If-None-Match") == etag:
        return web.Response(status=304, headers=headers)
    hub_path = request.app[HUB_PATH_KEY]
    hub = f"{_base(request)}{hub_path}" if hub_path and pub.delivery == "push" else None
    body = RENDERERS[pub.format](pub, newsroom.items[pub.key], _base(request), updated, hub)
    return web.Response(body=body, headers={**headers, "Content-Type": CONTENT_TYPES[pub.format]})


async def _home(request: web.Request) -> web.Response:
    pub = _pub(request)
    base = _base(request)
    items = request.app[NEWSROOM_KEY].items[pub.key]
    kind = {"rss": "application/rss+xml", "atom": "application/atom+xml", "json": "application/feed+json"}
    links = "".join(
        f'<li><a href="{base}{i.path}">{escape(i.story.headline)}</a> — {escape(i.dek)}</li>' for i in items
    )
    return _html(
        f"<title>{escape(pub.name)}</title>"
        f'<link rel="alternate" type="{kind[pub.format]}" title="{escape(pub.name)}" '
        f'href="{base}/{pub.key}/{pub.feed_path}">',
        f"<h1>{escape(pub.name)}</h1><p>{escape(pub.tagline)}</p><ul>{links}</ul>",
    )


async def _article(request: web.Request) -> web.Response:
    item = request.app[NEWSROOM_KEY].find(request.path)
    if item is None:
        raise web.HTTPNotFound(text="no such article (sample stories expire after a while)")
    pub = publication(item.story.publication)
    base = _base(request)
    meta = article_meta(item, base)
    head = (
        f"<title>{escape(item.story.headline)} – {escape(pub.name)}</title>"
        f'<meta name="description" content="{escape(item.dek)}">'
        '<meta property="og:type" content="article">'
        + "".join(f'<meta property="og:{k}" content="{escape(v)}">' for k, v in meta.items())
        + f'<link rel="canonical" href="{escape(meta["url"])}">'
    )
    body = (
        f'<article><p><a href="{base}/{pub.key}/">{escape(pub.name)}</a> · {escape(item.story.author)}</p>'
        f'<h1>{escape(item.story.headline)}</h1><p class="dek">{escape(item.dek)}</p>'
        f'<img src="{base}{item.image_path}" alt="" width="1200" height="675">'
        f"<p>{escape(item.story.body)}</p></article>"
    )
    return _html(head, body)


def _html(head: str, body: str) -> web.Response:
    page = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">{head}'
        f"<style>{_PAGE_STYLE}</style></head><body><main>{body}</main></body></html>"
    )
    return web.Response(text=page, content_type="text/html", charset="utf-8")


def article_meta(item: Item, base: str) -> dict[str, str]:
    """The og: properties of an item's article page, which link preview cards show."""
    return {
        "title": item.story.headline,
        "description": item.dek,
        "image": f"{base}{item.image_path}",
        "url": f"{base}{item.path}",
        "site_name": publication(item.story.publication).name,
    }


def preview_for(url: str, newsroom: Newsroom, origin: str) -> dict[str, str] | None:
    """A link preview card for `url` when it is a sample article on this server (`origin`), else None."""
    parts = urlsplit(url)
    if f"{parts.scheme}://{parts.netloc}" != origin:
        return None
    item = newsroom.find(parts.path)
    return article_meta(item, origin) if item is not None else None


async def _image(request: web.Request) -> web.Response:
    key = request.match_info["key"]
    try:
        pub = publication(key)
    except KeyError:
        raise web.HTTPNotFound from None
    png = placeholder_png(pub.colours, int(request.match_info["post_id"]))
    return web.Response(body=png, content_type="image/png", headers={"Cache-Control": "max-age=86400"})


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


@lru_cache(maxsize=256)
def placeholder_png(colours: tuple[str, str], seed: int, width: int = 192, height: int = 108) -> bytes:
    """A small 16:9 PNG: a diagonal gradient between the colours, with soft light discs placed by `seed`."""
    rng = random.Random(seed)  # noqa: S311 - decoration, nothing secret
    start, end = _rgb(colours[0]), _rgb(colours[1])
    discs = [
        (rng.uniform(0, width), rng.uniform(0, height), rng.uniform(12, 40), rng.uniform(0.15, 0.35))
        for _ in range(4)
    ]
    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter type: none
        for x in range(width):
            t = (x / width + y / height) / 2
            light = 0.0
            for cx, cy, radius, strength in discs:
                d = math.hypot(x - cx, y - cy)
                if d < radius:
                    light += strength * (1 - d / radius) ** 2
            light = min(light, 0.6)
            for a, b in zip(start, end, strict=True):
                value = a + (b - a) * t
                rows.append(int(value + (255 - value) * light))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + _chunk(b"IEND", b"")
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )
