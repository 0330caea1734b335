"""Reading one feed: fetch, parse in the pool, and fill deks the feed lacks from the article pages.

Storage and scheduling are the ingest service's; HTTP is the fetcher's and parsing the parse pool's, both
seen through the Protocols below. `resolve` also follows an HTML page to the feed it links
(`<link rel="alternate">` autodiscovery), for adding feeds and for previews.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

import structlog

from bot.core.digest import FeedDigest, page_article, with_page_dek
from bot.core.errors import FeedParseError, NewsbotError
from bot.core.fetching import PAGE_ACCEPT, FetchResult
from bot.core.models import Article
from bot.core.pagemeta import PageMeta
from bot.core.render import render_post

log = structlog.get_logger(__name__)


class Fetching(Protocol):
    async def fetch(
        self,
        url: str,
        *,
        etag: str | None = ...,
        last_modified: str | None = ...,
        accept: str = ...,
        truncate: bool = ...,
        max_bytes: int | None = ...,
        origin: str | None = ...,
    ) -> FetchResult: ...


class Parsing(Protocol):
    async def digest(
        self,
        body: bytes,
        *,
        url: str,
        content_type: str | None,
        now: datetime,
        fallback_source: str | None = ...,
        dek_max_chars: int = ...,
    ) -> FeedDigest: ...

    async def page(self, body: bytes, *, url: str, content_type: str | None) -> PageMeta: ...


class KnownDek(Protocol):
    @property
    def dek(self) -> str: ...
    @property
    def image(self) -> str | None: ...


class KnownLookup(Protocol):
    def get(self, guid: str, url: str) -> KnownDek | None: ...


class KnownSource(Protocol):
    async def known(self, feed_id: int | None, guids: Sequence[str], urls: Sequence[str]) -> KnownLookup: ...


@dataclass(frozen=True, slots=True)
class Resolved:
    """A URL followed to a feed: where the feed lives, what fetching and parsing it gave."""

    feed_url: str
    fetched: FetchResult
    digest: FeedDigest
    discovered: bool  # the URL was an HTML page that linked this feed


@dataclass(frozen=True, slots=True)
class Preview:
    source_url: str  # the feed read (after autodiscovery), or the article page
    entries: list[tuple[Article, str]]  # each article with its post's Telegram HTML


@dataclass(frozen=True, slots=True)
class ReaderConfig:
    dek_max_chars: int = 300
    page_concurrency: int = 8  # article pages fetched at once for missing deks, across all feeds
    page_max_bytes: int = 1024 * 1024  # only the head matters; longer pages are cut, not refused
    page_budget: float = 30.0  # seconds one feed may spend on article pages; the rest keep no dek


class FeedReader:
    def __init__(
        self, fetcher: Fetching, parser: Parsing, known: KnownSource | None, config: ReaderConfig
    ) -> None:
        self.fetcher = fetcher
        self.parser = parser
        self.known = known
        self.config = config
        self._pages = asyncio.Semaphore(config.page_concurrency)

    async def digest(self, fetched: FetchResult, *, now: datetime, fallback_source: str | None) -> FeedDigest:
        return await self.parser.digest(
            fetched.body,
            url=fetched.final_url,
            content_type=fetched.content_type,
            now=now,
            fallback_source=fallback_source,
            dek_max_chars=self.config.dek_max_chars,
        )

    async def resolve(self, url: str, *, now: datetime) -> Resolved:
        """Fetch `url`; when it is an HTML page, fetch the first feed it links instead.

        Raises FetchError or FeedParseError; the digest is "html" only when the page links no feed.
        """
        fetched = await self.fetcher.fetch(url)
        digest = await self.digest(fetched, now=now, fallback_source=None)
        if digest.kind == "feed" or not digest.feed_links:
            return Resolved(fetched.moved_to or url, fetched, digest, discovered=False)
        feed_url = digest.feed_links[0]
        fetched = await self.fetcher.fetch(feed_url, origin=fetched.final_url)
        digest = await self.digest(fetched, now=now, fallback_source=None)
        if digest.kind != "feed":
            raise FeedParseError(feed_url, "the page's feed link leads to another HTML page, not a feed")
        log.debug("feed_discovered", page=url, feed=feed_url)
        return Resolved(fetched.moved_to or feed_url, fetched, digest, discovered=True)

    async def preview(self, url: str, *, now: datetime, template: str) -> Preview:
        """What the bot would store and post from `url`: a feed's entries, or an article page as one
        entry, each with the exact Telegram HTML of its post. RenderError if the template cannot fit one."""
        resolved = await self.resolve(url, now=now)
        digest = resolved.digest
        source_url = resolved.feed_url
        if digest.kind == "feed":
            articles = await self.fill_deks(None, digest.articles, use_known=False, origin=source_url)
        else:
            article = page_article(digest.page, resolved.fetched.final_url) if digest.page else None
            if article is None:
                raise FeedParseError(url, "not a feed, and the page links no feed and has no title")
            source_url, articles = resolved.fetched.final_url, [article]
        entries = [
            (
                a,
                render_post(
                    headline=a.headline,
                    dek=a.dek,
                    url=a.url,
                    source=a.source,
                    categories=a.categories,
                    template=template,
                ),
            )
            for a in articles
        ]
        return Preview(source_url, entries)

    async def fill_deks(
        self,
        feed_id: int | None,
        articles: Sequence[Article],
        *,
        use_known: bool = True,
        origin: str | None = None,
    ) -> list[Article]:
        """Articles whose feed gave no summary get a dek from their page (og:description).

        `origin` is the feed's URL: a public feed's item links to private addresses are not fetched.

        Stored ones keep the dek they already have (no page fetch, and no false "edit"); pages are
        fetched with bounded concurrency and a time budget; a page that fails leaves the dek empty.
        """
        if not any(a.needs_dek for a in articles):
            return list(articles)
        out = list(articles)
        wanted = [i for i, a in enumerate(out) if a.needs_dek]
        if use_known and self.known is not None:
            known = await self.known.known(
                feed_id, [out[i].guid for i in wanted], [out[i].url for i in wanted]
            )
            still: list[int] = []
            for i in wanted:
                hit = known.get(out[i].guid, out[i].url)
                if hit is None:
                    still.append(i)
                else:
                    out[i] = replace(out[i], dek=hit.dek, image=out[i].image or hit.image, needs_dek=False)
            wanted = still
        if not wanted:
            return out
        tasks = {asyncio.create_task(self._page_dek(out[i], origin)): i for i in wanted}
        try:
            done, pending = await asyncio.wait(tasks, timeout=self.config.page_budget)
        finally:
            # Also when the caller's own deadline cancels the wait: no page fetch may outlive it, still
            # holding a page slot and a host slot.
            left = [task for task in tasks if not task.done()]
            for task in left:
                task.cancel()
            if left:
                await asyncio.gather(*left, return_exceptions=True)
        if pending:
            log.info("page_deks_cut_short", feed_id=feed_id, missing=len(pending))
        for task in done:
            out[tasks[task]] = task.result()
        return out

    async def _page_dek(self, article: Article, origin: str | None) -> Article:
        async with self._pages:
            try:
                page = await self.fetcher.fetch(
                    article.url,
                    accept=PAGE_ACCEPT,
                    truncate=True,
                    max_bytes=self.config.page_max_bytes,
                    origin=origin,
                )
                meta = await self.parser.page(page.body, url=page.final_url, content_type=page.content_type)
            except NewsbotError as exc:
                log.debug("page_dek_failed", url=article.url, error=str(exc))
                return article
        return with_page_dek(article, meta, self.config.dek_max_chars)
