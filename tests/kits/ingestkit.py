"""The real ingest stack for tests: SQLite under tmp_path, the fetcher over loopback HTTP, a parse pool.

`parse_pool` is a module-scoped fixture (worker processes start once per test module); `Stack` wires
the same classes as bot/edges/runtime.py with test-sized timeouts, and reads back what landed in SQLite.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.db import Database
from bot.adapters.fetcher import Fetcher, make_client
from bot.adapters.parse_pool import ParsePool
from bot.adapters.repo_articles import ArticleRepo
from bot.adapters.repo_feeds import FeedRepo
from bot.adapters.repo_ingest import IngestRepo
from bot.adapters.repo_topics import TopicRepo
from bot.core.models import Feed
from bot.core.policy import PostPolicy
from bot.core.schedule import Schedule
from bot.core.timeutil import from_epoch
from bot.services.feed_reader import FeedReader, ReaderConfig
from bot.services.ingest import IngestService
from bot.services.ingest_ports import IngestConfig
from tests.kits import DATA as KIT_DATA

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
DATA = KIT_DATA / "ingest"
CHANNEL = "@newsroom"


@pytest.fixture(scope="module")
def parse_pool() -> Iterator[ParsePool]:
    pool = ParsePool(2, timeout=30)
    yield pool
    pool.shutdown()


@dataclass
class Stack:
    db: Database
    feeds: FeedRepo
    articles: ArticleRepo
    topics: TopicRepo
    fetcher: Fetcher
    ingest: IngestService

    async def close(self) -> None:
        await self.fetcher.aclose()
        await self.db.close()

    async def add(self, url: str) -> Feed:
        return await self.feeds.add(url, NOW - timedelta(days=1))

    async def feed(self, feed_id: int) -> Feed:
        feed = await self.feeds.get(feed_id)
        assert feed is not None
        return feed

    async def rows(self) -> list[dict[str, Any]]:
        """Every stored article as plain values, oldest row first."""
        rows = await self.db.fetchall(
            "SELECT a.id, a.feed_id, a.guid, a.url, a.headline, a.dek, a.published_at, a.first_seen_at,"
            " a.updated_at, a.categories, a.image, a.source FROM articles a ORDER BY a.id"
        )
        out = []
        for r in rows:
            row = dict(r)
            row["categories"] = json.loads(row["categories"])
            for key in ("published_at", "first_seen_at", "updated_at"):
                value = from_epoch(row[key])
                row[key] = value.isoformat() if value else None
            out.append(row)
        return out

    async def queued(self) -> list[tuple[int, str]]:
        rows = await self.db.fetchall("SELECT article_id, chat_id FROM outbox ORDER BY id")
        return [(r[0], r[1]) for r in rows]


async def make_stack(
    tmp_path: Path,
    pool: ParsePool,
    *,
    timeout: float = 5.0,
    max_bytes: int = 1024 * 1024,
    interval: float = 120.0,
    configured: tuple[str, ...] = (),
    feed_timeout: float = 30.0,
    page_budget: float = 10.0,
    policy: PostPolicy | None = None,
    schedule: Schedule | None = None,
) -> Stack:
    db = await Database(tmp_path / "news.db").open()
    fetcher = Fetcher(
        make_client(timeout=timeout, per_host=4),
        timeout=timeout,
        max_bytes=max_bytes,
        concurrency=8,
        per_host=4,
    )
    feeds, articles, topics, ingest_repo = FeedRepo(db), ArticleRepo(db), TopicRepo(db), IngestRepo(db)
    service = IngestService(
        feeds=feeds,
        articles=articles,
        topics=topics,
        seeds=ingest_repo,
        reader=FeedReader(fetcher, pool, ingest_repo, ReaderConfig(page_budget=page_budget)),
        policy=policy or PostPolicy(),
        config=IngestConfig(
            schedule=schedule or Schedule(interval=timedelta(seconds=interval)),
            channel_id=CHANNEL,
            poll_interval=interval,
            configured_feeds=configured,
            feed_timeout=feed_timeout,
        ),
    )
    return Stack(db, feeds, articles, topics, fetcher, service)
