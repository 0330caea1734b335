"""The ingest service's own SQL beyond FeedRepo and ArticleRepo: stored deks, and FEEDS already added.

Ingest asks which entries without a summary are already stored before fetching their article pages: a
stored entry keeps the dek it got from its page last time (and is not fetched again), so an unchanged
entry never looks edited. And FEEDS entries are added once, remembered in `bot_state`, so a feed that
moved (301) or that an admin removed is not added again on the next start. Storing, deduplicating and
queueing articles are `repo_articles.py`'s; the feeds table is `repo_feeds.py`'s.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from bot.adapters.db import Database

_CHUNK = 400  # well under SQLite's default limit of 32,766 bound parameters
_SEEDED_KEY = "ingest.feeds_from_settings"


@dataclass(frozen=True, slots=True)
class KnownArticle:
    dek: str
    image: str | None


@dataclass(frozen=True, slots=True)
class KnownArticles:
    """Stored articles matching a batch: by guid within the feed, and by URL in any feed."""

    by_guid: dict[str, KnownArticle]
    by_url: dict[str, KnownArticle]

    def get(self, guid: str, url: str) -> KnownArticle | None:
        return self.by_guid.get(guid) or self.by_url.get(url)


class IngestRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def known(self, feed_id: int | None, guids: Sequence[str], urls: Sequence[str]) -> KnownArticles:
        """What is stored of these entries; `feed_id` None looks up URLs only (a preview of a new feed)."""
        by_guid: dict[str, KnownArticle] = {}
        by_url: dict[str, KnownArticle] = {}
        if feed_id is not None:
            for start in range(0, len(guids), _CHUNK):
                chunk = guids[start : start + _CHUNK]
                marks = ",".join("?" * len(chunk))
                rows = await self.db.fetchall(
                    f"SELECT guid, dek, image FROM articles WHERE feed_id = ? AND guid IN ({marks})",
                    (feed_id, *chunk),
                )
                by_guid.update({r["guid"]: KnownArticle(r["dek"], r["image"]) for r in rows})
        for start in range(0, len(urls), _CHUNK):
            chunk = urls[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = await self.db.fetchall(
                f"SELECT url, dek, image FROM articles WHERE url IN ({marks})", tuple(chunk)
            )
            by_url.update({r["url"]: KnownArticle(r["dek"], r["image"]) for r in rows})
        return KnownArticles(by_guid, by_url)

    async def seeded_feeds(self) -> set[str]:
        """FEEDS entries added on an earlier start."""
        row = await self.db.fetchone("SELECT value FROM bot_state WHERE key = ?", (_SEEDED_KEY,))
        if row is None:
            return set()
        try:
            urls = json.loads(row["value"])
        except ValueError:
            return set()
        return {u for u in urls if isinstance(u, str)} if isinstance(urls, list) else set()

    async def remember_seeded(self, urls: set[str]) -> None:
        await self.db.execute_write(
            "INSERT INTO bot_state (key, value) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (_SEEDED_KEY, json.dumps(sorted(urls))),
        )
