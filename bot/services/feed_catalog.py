"""The feed list: FEEDS added once on start, feeds added (with autodiscovery) and removed, and previews.

Reading a URL is `feed_reader.py`'s; the feeds table is the feed repository's, seen through
`ingest_ports.FeedStore`. The ingest cycle that reads these feeds is `ingest.py`'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import structlog

from bot.core.errors import DuplicateFeedError, FeedParseError
from bot.core.models import Feed
from bot.core.timeutil import utcnow
from bot.services.feed_reader import FeedReader, Preview
from bot.services.ingest_ports import FeedStore, SeedMemory

log = structlog.get_logger(__name__)


class FeedCatalog:
    def __init__(
        self, feeds: FeedStore, seeds: SeedMemory, reader: FeedReader, configured: Sequence[str]
    ) -> None:
        self.feeds = feeds
        self.seeds = seeds
        self.reader = reader
        self.configured = tuple(configured)

    async def ensure_configured_feeds(self, now: datetime | None = None) -> int:
        """Add FEEDS entries not added on an earlier start; returns how many were new."""
        configured = set(self.configured)
        if not configured:
            return 0
        seeded = await self.seeds.seeded_feeds()
        added = 0
        for url in self.configured:
            if url not in seeded:
                _, created = await self.feeds.ensure(url, now or utcnow())
                added += created
        if not configured <= seeded:
            await self.seeds.remember_seeded(seeded | configured)
        return added

    async def add_feed(self, url: str) -> Feed:
        """Add a feed by its URL or by a page that links it. DuplicateFeedError when already there;
        FetchError/FeedParseError (one line) when it cannot be read as a feed."""
        url = url.strip()
        if (existing := await self.feeds.by_url(url)) is not None:
            raise DuplicateFeedError(f"feed already added: {existing.url} (id {existing.id})")
        now = utcnow()
        resolved = await self.reader.resolve(url, now=now)
        if resolved.digest.kind != "feed":
            raise FeedParseError(url, "not a feed, and the page links no RSS, Atom or JSON feed")
        if resolved.feed_url != url and (existing := await self.feeds.by_url(resolved.feed_url)):
            raise DuplicateFeedError(f"feed already added: {existing.url} (id {existing.id})")
        feed = await self.feeds.add(resolved.feed_url, now, title=resolved.digest.title)
        log.info("feed_added", feed_id=feed.id, url=feed.url, discovered=resolved.discovered)
        return feed

    async def remove_feed(self, id_or_url: int | str) -> Feed | None:
        """Remove a feed (and its articles) by id or URL; None when there is no such feed."""
        ref = id_or_url.strip() if isinstance(id_or_url, str) else id_or_url
        if isinstance(ref, str) and ref.isdigit():
            ref = int(ref)
        feed = await (self.feeds.get(ref) if isinstance(ref, int) else self.feeds.by_url(ref))
        if feed is None or not await self.feeds.remove(feed.id):
            return None
        log.info("feed_removed", feed_id=feed.id, url=feed.url)
        return feed

    async def list_feeds(self) -> list[Feed]:
        return await self.feeds.all()

    async def preview(self, url: str, template: str, now: datetime | None = None) -> Preview:
        """What the bot would store and post from `url` (a feed, a page linking one, an article page)."""
        return await self.reader.preview(url.strip(), now=now or utcnow(), template=template)
