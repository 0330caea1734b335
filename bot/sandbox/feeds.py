"""The sandbox's sample newsroom: a moving list of items per publication, as RSS 2.0, Atom and JSON Feed.

Items are stamped from the story pool in `stories` with fresh ids and current times; serving them over
HTTP (and the article pages and images) is left to `site`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape

import structlog

from bot.sandbox.stories import PUBLICATIONS, Publication, Story, stories_of

log = structlog.get_logger(__name__)

MAX_ITEMS = 20  # items a feed document keeps, newest first
_EPOCH_BASE = 1_700_000_000


@dataclass(frozen=True, slots=True)
class Item:
    """One published story: a template stamped with a post id, a time and (after a revision) a new dek."""

    post_id: int
    story: Story
    published: datetime
    updated: datetime
    dek: str

    @property
    def slug(self) -> str:
        folded = unicodedata.normalize("NFKD", self.story.headline).encode("ascii", "ignore").decode()
        words = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")
        if len(words) > 60:
            words = words[:61].rsplit("-", 1)[0]
        return f"{words}-{self.post_id}"

    @property
    def path(self) -> str:
        """The article page's path on the sample server; each publication has its own URL style."""
        day = self.published
        if self.story.publication == "courier":
            return f"/courier/{day:%Y/%m/%d}/{self.slug}/"
        if self.story.publication == "fieldnotes":
            return f"/fieldnotes/articles/{self.slug}"
        return f"/ledger/{day:%Y/%m}/{self.slug}"

    @property
    def image_path(self) -> str:
        return f"/img/{self.story.publication}/{self.post_id}.png"


class Newsroom:
    """Items per publication, newest first; `publish_next` adds one, `revise_one` corrects a recent dek."""

    def __init__(
        self,
        *,
        now: datetime,
        backfill: int = 6,
        seed: int | None = None,
        spacing: timedelta = timedelta(minutes=23),
    ) -> None:
        """`backfill` earlier items per publication, `spacing` apart (with up to 40% jitter): the sandbox
        passes its own ticker's pace, so a schedule that learns pace from entry dates sees the real one."""
        self._rng = random.Random(seed)  # noqa: S311 - picks sample stories, nothing secret
        self._next_id = max(int(now.timestamp()) - _EPOCH_BASE, 1)  # later runs never reuse an id
        self._cursor = {pub.key: self._rng.randrange(len(stories_of(pub.key))) for pub in PUBLICATIONS}
        self._turn = 0
        self.items: dict[str, list[Item]] = {pub.key: [] for pub in PUBLICATIONS}
        self.version: dict[str, int] = {pub.key: 0 for pub in PUBLICATIONS}
        self.updated_at: dict[str, datetime] = {pub.key: now for pub in PUBLICATIONS}
        # told (site key, "published" or "revised") after each change: how the sites announce it
        self.listeners: list[Callable[[str, str], None]] = []
        for pub in PUBLICATIONS:
            for age in range(backfill, 0, -1):
                ago = spacing * (age + self._rng.uniform(0, 0.4))
                self._add(pub.key, now - ago, now)

    def _add(self, key: str, published: datetime, now: datetime) -> Item:
        pool = stories_of(key)
        story = pool[self._cursor[key] % len(pool)]
        self._cursor[key] += 1
        self._next_id += 1
        published = published.replace(microsecond=0)
        item = Item(self._next_id, story, published, published, story.dek)
        self.items[key] = [item, *self.items[key]][:MAX_ITEMS]
        self._touch(key, now)
        return item

    def _touch(self, key: str, now: datetime) -> None:
        self.version[key] += 1
        self.updated_at[key] = now

    def publish_next(self, now: datetime) -> Item:
        """Publish the next story of the next publication in turn, timed `now`."""
        key = PUBLICATIONS[self._turn % len(PUBLICATIONS)].key
        self._turn += 1
        item = self._add(key, now, now)
        log.info("sample_story_published", site=key, headline=item.story.headline)
        self._tell(key, "published")
        return item

    def revise_one(self, now: datetime) -> Item | None:
        """Newsrooms correct stories: add an update note to the dek of a recent item (not yet revised)."""
        candidates = [i for items in self.items.values() for i in items[:4] if i.dek == i.story.dek]
        if not candidates:
            return None
        old = self._rng.choice(candidates)
        new = replace(old, dek=f"{old.dek} Updated {now:%H:%M} UTC with new details.", updated=now)
        key = old.story.publication
        self.items[key] = [new if i.post_id == old.post_id else i for i in self.items[key]]
        self._touch(key, now)
        log.info("sample_story_revised", site=key, headline=old.story.headline)
        self._tell(key, "revised")
        return new

    def _tell(self, key: str, change: str) -> None:
        for listener in self.listeners:
            listener(key, change)

    def find(self, path: str) -> Item | None:
        """The item whose article page is at `path` (query and fragment ignored)."""
        path = path.split("?", 1)[0].split("#", 1)[0]
        for items in self.items.values():
            for item in items:
                if item.path.rstrip("/") == path.rstrip("/"):
                    return item
        return None


async def run_ticker(
    newsroom: Newsroom, stop: asyncio.Event, *, interval: float = 6.0, revise_every: int = 7
) -> None:
    """Publish a story every `interval` seconds (every `revise_every`-th tick revise one) until `stop`."""
    tick = 0
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
        if stop.is_set():
            return
        tick += 1
        now = datetime.now(UTC)
        if revise_every and tick % revise_every == 0:
            newsroom.revise_one(now)
        else:
            newsroom.publish_next(now)


# -- rendering --------------------------------------------------------------------------------------------


def _xml(text: str) -> str:
    return escape(text, quote=False)


def _wp_text(text: str) -> str:
    """Title text the way WordPress writes it: `&` as `&#038;`, curly quotes as numeric references."""
    return (
        _xml(text)
        .replace("&amp;", "&#038;")
        .replace("’", "&#8217;")
        .replace("“", "&#8220;")
        .replace("”", "&#8221;")
    )


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _body_html(item: Item, base: str) -> str:
    return (
        f'<figure><img src="{base}{item.image_path}" alt="" width="1200" height="675" /></figure>\n'
        f"<p>{escape(item.dek)}</p>\n<p>{escape(item.story.body)}</p>\n"
    )


def _hub_link(hub: str | None, element: str) -> str:
    """The feed's `rel="hub"` link when it advertises a WebSub hub."""
    return f'{element} href="{escape(hub)}" rel="hub"/>\n' if hub else ""


def render_rss(
    pub: Publication, items: list[Item], base: str, now: datetime, hub: str | None = None
) -> bytes:
    """A WordPress-style RSS 2.0 feed: CDATA, content:encoded, dc:creator, media:content and the footer."""
    site = f"{base}/{pub.key}/"
    hub_line = _hub_link(hub, "\t<atom:link")
    out = [
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"\n'
        '\txmlns:content="http://purl.org/rss/1.0/modules/content/"\n'
        '\txmlns:wfw="http://wellformedweb.org/CommentAPI/"\n'
        '\txmlns:dc="http://purl.org/dc/elements/1.1/"\n'
        '\txmlns:atom="http://www.w3.org/2005/Atom"\n'
        '\txmlns:sy="http://purl.org/rss/1.0/modules/syndication/"\n'
        '\txmlns:media="http://search.yahoo.com/mrss/"\n\t>\n\n<channel>\n'
        f"\t<title>{_wp_text(pub.name)}</title>\n"
        f'\t<atom:link href="{site}{pub.feed_path}" rel="self" type="application/rss+xml" />\n'
        f"{hub_line}"
        f"\t<link>{site}</link>\n\t<description>{_wp_text(pub.tagline)}</description>\n"
        f"\t<lastBuildDate>{format_datetime(now.astimezone(UTC), usegmt=False)}</lastBuildDate>\n"
        "\t<language>en-GB</language>\n\t<sy:updatePeriod>\n\thourly\t</sy:updatePeriod>\n"
        "\t<sy:updateFrequency>\n\t1\t</sy:updateFrequency>\n"
        "\t<generator>https://wordpress.org/?v=6.6.2</generator>\n"
    ]
    for item in items:
        link = f"{base}{item.path}"
        footer = (
            f'<p>The post <a href="{link}">{escape(item.story.headline)}</a> appeared first on '
            f'<a href="{site}">{escape(pub.name)}</a>.</p>\n'
        )
        cats = "".join(f"\t\t<category><![CDATA[{c}]]></category>\n" for c in item.story.categories)
        out.append(
            "\t<item>\n"
            f"\t\t<title>{_wp_text(item.story.headline)}</title>\n"
            f"\t\t<link>{link}</link>\n"
            f"\t\t<comments>{link}#respond</comments>\n"
            f"\t\t<dc:creator><![CDATA[{item.story.author}]]></dc:creator>\n"
            f"\t\t<pubDate>{format_datetime(item.published.astimezone(UTC))}</pubDate>\n"
            f"{cats}"
            f'\t\t<guid isPermaLink="false">{site}?p={item.post_id}</guid>\n'
            f"\t\t<description><![CDATA[<p>{escape(item.dek)} [&#8230;]</p>\n{footer}]]></description>\n"
            f"\t\t<content:encoded><![CDATA[{_body_html(item, base)}{footer}]]></content:encoded>\n"
            f'\t\t<media:content url="{base}{item.image_path}" medium="image" width="1200" height="675" />\n'
            "\t</item>\n"
        )
    out.append("\t</channel>\n</rss>\n")
    return "".join(out).encode("utf-8")


def render_atom(
    pub: Publication, items: list[Item], base: str, now: datetime, hub: str | None = None
) -> bytes:
    """An Atom 1.0 feed with HTML summaries, categories, media:thumbnail and an image enclosure."""
    site = f"{base}/{pub.key}/"
    hub_line = _hub_link(hub, "  <link")
    out = [
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom" xmlns:media="http://search.yahoo.com/mrss/"'
        ' xml:lang="en">\n'
        f"  <title>{_xml(pub.name)}</title>\n  <subtitle>{_xml(pub.tagline)}</subtitle>\n"
        f'  <link href="{site}" rel="alternate" type="text/html"/>\n'
        f'  <link href="{site}{pub.feed_path}" rel="self" type="application/atom+xml"/>\n'
        f"{hub_line}"
        f"  <id>tag:{pub.key}.sandbox.invalid,2024:feed</id>\n  <updated>{_iso(now)}</updated>\n"
    ]
    for item in items:
        link = f"{base}{item.path}"
        image = f"{base}{item.image_path}"
        cats = "".join(
            f'    <category term="{escape(c)}" label="{escape(c)}"/>\n' for c in item.story.categories
        )
        out.append(
            "  <entry>\n"
            f"    <title>{_xml(item.story.headline)}</title>\n"
            f'    <link rel="alternate" type="text/html" href="{link}"/>\n'
            f'    <link rel="enclosure" type="image/png" href="{image}" length="4096"/>\n'
            f"    <id>tag:{pub.key}.sandbox.invalid,2024:{item.post_id}</id>\n"
            f"    <published>{_iso(item.published)}</published>\n"
            f"    <updated>{_iso(item.updated)}</updated>\n"
            f"    <author><name>{_xml(item.story.author)}</name></author>\n{cats}"
            f'    <summary type="html">{_xml(f"<p>{escape(item.dek)}</p>")}</summary>\n'
            f'    <content type="html">{_xml(_body_html(item, base))}</content>\n'
            f'    <media:thumbnail url="{image}" width="1200" height="675"/>\n'
            "  </entry>\n"
        )
    out.append("</feed>\n")
    return "".join(out).encode("utf-8")


def render_json_feed(
    pub: Publication, items: list[Item], base: str, now: datetime, hub: str | None = None
) -> bytes:
    """A JSON Feed 1.1 document with summaries, HTML content, images, tags and authors."""
    site = f"{base}/{pub.key}/"
    doc = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": pub.name,
        "home_page_url": site,
        "feed_url": f"{site}{pub.feed_path}",
        **({"hubs": [{"type": "WebSub", "url": hub}]} if hub else {}),
        "description": pub.tagline,
        "language": "en",
        "items": [
            {
                "id": f"{site}?id={item.post_id}",
                "url": f"{base}{item.path}",
                "title": item.story.headline,
                "summary": item.dek,
                "content_html": _body_html(item, base),
                "image": f"{base}{item.image_path}",
                "date_published": _iso(item.published),
                "date_modified": _iso(item.updated),
                "authors": [{"name": item.story.author}],
                "tags": list(item.story.categories),
            }
            for item in items
        ],
    }
    return json.dumps(doc, ensure_ascii=False, indent=2).encode("utf-8")


RENDERERS = {"rss": render_rss, "atom": render_atom, "json": render_json_feed}
CONTENT_TYPES = {
    "rss": "application/rss+xml; charset=UTF-8",
    "atom": "application/atom+xml; charset=utf-8",
    "json": "application/feed+json; charset=utf-8",
}
