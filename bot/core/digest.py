"""Fetched bytes to what ingest stores: a feed's Articles, or an HTML page's feed links and metadata.

These functions are the unit of work the parse pool runs in a worker process, so they take and return
only picklable values (bytes, strings, frozen dataclasses) and read nothing but their arguments.
Parsing is `feedparse`'s, cleaning `normalise`'s, page metadata `pagemeta`'s; this module only joins
them and decides what an HTML answer means.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal
from urllib.parse import urlsplit

from bot.core.errors import FeedParseError
from bot.core.feedparse import parse_feed
from bot.core.models import Article
from bot.core.normalise import HEADLINE_MAX_CHARS, normalise_entry
from bot.core.pagemeta import PageMeta, discover_feeds, page_meta
from bot.core.text import make_dek, truncate
from bot.core.urls import canonical_url

__all__ = [
    "FeedDigest",
    "digest_body",
    "digest_page",
    "looks_like_html",
    "page_article",
    "source_name",
    "with_page_dek",
]

_HTML_MEDIA = frozenset({"text/html", "application/xhtml+xml"})
_HTML_START = re.compile(
    rb"^(?:\xef\xbb\xbf)?\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html[\s>])", re.I | re.S
)


@dataclass(frozen=True, slots=True)
class FeedDigest:
    """A feed's normalised articles (kind "feed"), or an HTML page's feed links and metadata ("html")."""

    kind: Literal["feed", "html"]
    title: str | None = None
    site_url: str | None = None
    articles: tuple[Article, ...] = ()
    skipped: int = 0  # entries without a usable link or headline
    format: str = ""
    feed_links: tuple[str, ...] = ()
    page: PageMeta | None = None
    hubs: tuple[str, ...] = ()  # WebSub hubs the feed names, and its self URL (bot.core.websub)
    self_url: str | None = None


def source_name(title: str | None, url: str) -> str:
    """What a post credits: the feed's title, else its host without `www.`."""
    if title and title.strip():
        return title.strip()
    host = urlsplit(url).hostname or url
    return host.removeprefix("www.")


def looks_like_html(body: bytes, content_type: str | None) -> bool:
    """An HTML page rather than a feed: by its media type, or by a doctype/`<html>` at the start."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media in _HTML_MEDIA or _HTML_START.match(body[:4096]) is not None


def digest_body(
    body: bytes,
    *,
    url: str,
    content_type: str | None,
    now: datetime,
    fallback_source: str | None = None,
    dek_max_chars: int = 300,
) -> FeedDigest:
    """Parse and normalise a feed, or describe the HTML page it turned out to be.

    Raises FeedParseError (one line) when the bytes are neither a feed nor an HTML page.
    """
    try:
        parsed = parse_feed(body, url=url, content_type=content_type)
    except FeedParseError:
        if looks_like_html(body, content_type):
            return FeedDigest(
                kind="html",
                feed_links=tuple(discover_feeds(body, url, content_type=content_type)),
                page=page_meta(body, url, content_type=content_type),
            )
        raise
    source = source_name(parsed.title or fallback_source, parsed.link or url)
    articles: list[Article] = []
    skipped = 0
    for entry in parsed.entries:
        article = normalise_entry(
            entry, feed_url=url, site_url=parsed.link, source=source, now=now, dek_max_chars=dek_max_chars
        )
        if article is None:
            skipped += 1
        else:
            articles.append(article)
    return FeedDigest(
        kind="feed",
        title=parsed.title,
        site_url=parsed.link,
        articles=tuple(articles),
        skipped=skipped,
        format=parsed.format,
        hubs=parsed.hubs,
        self_url=parsed.self_url,
    )


def digest_page(body: bytes, *, url: str, content_type: str | None) -> PageMeta:
    """An article page's share metadata (og:description and friends) for a dek the feed did not give."""
    return page_meta(body, url, content_type=content_type)


def with_page_dek(article: Article, meta: PageMeta, dek_max_chars: int = 300) -> Article:
    """`article` with its dek from the page's description (cleaned like a feed summary) and, when the feed
    gave no image, the page's og:image. `needs_dek` is cleared: the page was asked, whatever it said."""
    dek = article.dek
    if meta.description:
        dek = make_dek(html.escape(meta.description, quote=False), article.headline, dek_max_chars)
    return replace(article, dek=dek, image=article.image or meta.image, needs_dek=False)


def page_article(meta: PageMeta, url: str, *, dek_max_chars: int = 300) -> Article | None:
    """An article page as the Article it would be posted as; None when the page has no title."""
    if not meta.title:
        return None
    try:
        canonical = canonical_url(meta.canonical or url)
    except ValueError:
        canonical = url
    article = Article(
        guid=canonical,
        url=canonical,
        headline=truncate(meta.title, HEADLINE_MAX_CHARS),
        dek="",
        published=None,
        source=source_name(meta.site_name, canonical),
        needs_dek=True,
    )
    return with_page_dek(article, meta, dek_max_chars)
