"""Bodies a WebSub hub pushed: the same parse → normalise → dedupe → outbox path as a fetched feed, no fetch.

The WebSub service (`websub.py`) has checked the signature; this stores what the body holds through the
ingest service's own parts (its reader's parse pool and dek filling, the article store, the topics), in
the process that received it. A push may carry only the new entries, so it is never the feed's full item
list: it is never a first sync (a feed not yet read in full is read instead, `fetch_soon`), and it
records no fetch outcome (validators, schedule, pace and the advertised hub are left to the next read).
A body that is not a feed is logged and dropped; the feed's polling goes on as before.
"""

from __future__ import annotations

import asyncio
import time

import structlog

from bot.core.errors import FeedParseError, FetchError
from bot.core.fetching import FetchResult
from bot.core.timeutil import utcnow
from bot.services.ingest import IngestService

log = structlog.get_logger(__name__)


class PushIngest:
    """`ingest_pushed` over an IngestService; `fetch_soon` is the service's (a full read)."""

    def __init__(self, ingest: IngestService) -> None:
        self.ingest = ingest

    def fetch_soon(self, feed_id: int) -> None:
        self.ingest.fetch_soon(feed_id)

    async def ingest_pushed(self, feed_id: int, body: bytes, *, content_type: str | None) -> int | None:
        """Store the entries of a pushed body of feed `feed_id`; the number of new articles, or None when
        nothing was stored (no such enabled feed, not read in full yet, or not a feed)."""
        ingest = self.ingest
        feed = await ingest.feeds.get(feed_id)
        if feed is None or not feed.enabled:
            return None
        if not feed.synced:  # the first sync needs the whole feed: read it
            ingest.fetch_soon(feed_id)
            return None
        started = time.perf_counter()
        now = utcnow()
        pushed = FetchResult(
            url=feed.url,
            final_url=feed.url,
            status=200,
            body=body,
            etag=None,
            last_modified=None,
            content_type=content_type,
            permanent_redirect=False,
            max_age=None,
            elapsed_ms=0,
        )
        try:
            async with asyncio.timeout(ingest.config.feed_timeout):
                digest = await ingest.reader.digest(pushed, now=now, fallback_source=feed.title)
                if digest.kind != "feed":
                    raise FeedParseError(feed.url, "the pushed body is not a feed")
                articles = await ingest.reader.fill_deks(feed.id, digest.articles, origin=feed.url)
        except (FeedParseError, FetchError) as exc:
            log.warning("feed_push_unreadable", feed_id=feed_id, error=exc.reason, bytes=len(body))
            return None
        except TimeoutError:
            log.warning("feed_push_unreadable", feed_id=feed_id, error="timed out", bytes=len(body))
            return None
        stored = await ingest.articles.store(
            feed.id,
            articles,
            now=now,
            first_sync=False,
            policy=ingest.policy,
            channel_id=ingest.config.channel_id,
            matchers=await ingest.topics.matchers(),
        )
        if stored.queued or stored.dms_queued:
            for notify in ingest.on_queued:
                notify()
        log.info(
            "feed_pushed",
            feed_id=feed_id,
            bytes=len(body),
            ms=int((time.perf_counter() - started) * 1000),
            entries=len(articles),
            new=stored.new,
            updated=stored.updated,
            queued=stored.queued,
        )
        return stored.new
