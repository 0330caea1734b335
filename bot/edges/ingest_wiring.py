"""The ingest service's wiring (fetcher, parse pool, repositories), importable without the rest of the bot.

The ingest process imports this module and not bot.edges.runtime: no python-telegram-bot, aiohttp or the
other services get loaded there, about 16 MiB less in a process that lives as long as the bot (make
bench's footprint section). bot.edges.runtime builds the bot's own IngestService through it too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

import structlog

from bot.adapters.db import Database
from bot.adapters.fetcher import Fetcher
from bot.adapters.parse_pool import ParsePool
from bot.adapters.repo_articles import ArticleRepo
from bot.adapters.repo_feeds import FeedRepo
from bot.adapters.repo_ingest import IngestRepo
from bot.adapters.repo_topics import TopicRepo
from bot.core.policy import PostPolicy
from bot.services.feed_reader import FeedReader, ReaderConfig
from bot.services.ingest import IngestService
from bot.services.ingest_ports import IngestConfig
from bot.settings import Settings

__all__ = ["ADMIN_POOL_IDLE_SECONDS", "build_ingest_service", "open_child_ingest", "post_policy"]

log = structlog.get_logger(__name__)

ADMIN_POOL_IDLE_SECONDS = 10  # the bot's own parse worker (admin previews, pushes) lives this long idle
Closer = Callable[[], Awaitable[None]]


def post_policy(settings: Settings) -> PostPolicy:
    return PostPolicy(
        backfill_max_posts=settings.backfill_max_posts,
        backfill_max_age=timedelta(hours=settings.backfill_max_age_hours),
        max_post_age=timedelta(hours=settings.max_post_age_hours),
        review=settings.review,
        breaking_categories=frozenset(" ".join(c.split()).casefold() for c in settings.breaking_categories),
    )


def build_ingest_service(
    settings: Settings,
    db: Database,
    closers: list[Closer],
    *,
    feeds: FeedRepo,
    articles: ArticleRepo,
    policy: PostPolicy,
    cycles: bool = True,
) -> IngestService:
    """Feeds -> articles over one shared httpx client and one parse pool, both added to `closers`.

    With `cycles` the pool runs the ingest cycles: PARSE_WORKERS workers, stopped (with the forkserver,
    this process's alone) after PARSE_IDLE_SECONDS without work. Without (the bot's own service, when the
    ingest process runs the cycles) it serves admin commands and pushes only: one worker, stopped seconds
    after its last parse; the bot's forkserver stays, as the ingest process was started from it. Measured
    on a 35 KiB feed: the first parse with the pool cold takes ~0.5 s (the worker imports the parser), the
    next ~12 ms; parsing in a thread instead would hold the GIL on the loop that answers readers for as long
    as a 5 MiB feed takes, so a short-lived worker it is.
    """
    fetcher = Fetcher.from_settings(settings)
    closers.append(fetcher.aclose)
    if cycles:
        pool = ParsePool(
            settings.parse_workers, idle_seconds=settings.parse_idle_seconds, stop_forkserver=True
        )
    else:
        pool = ParsePool(1, idle_seconds=ADMIN_POOL_IDLE_SECONDS)
    closers.append(pool.close)
    store = IngestRepo(db)
    return IngestService(
        feeds=feeds,
        articles=articles,
        topics=TopicRepo(db),
        seeds=store,
        reader=FeedReader(fetcher, pool, store, ReaderConfig()),
        policy=policy,
        config=IngestConfig.from_settings(settings),
    )


async def open_child_ingest(settings: Settings) -> tuple[IngestService, Closer]:
    """The ingest process's IngestService, on a connection of its own (see bot.edges.ingest_process)."""
    db = await Database(settings.database_path).open(migrate=False)  # the bot migrated before starting it
    closers: list[Closer] = []

    async def close() -> None:
        for closer in reversed(closers):
            try:
                await closer()
            except Exception as exc:  # noqa: BLE001 - closing must go on whatever one part does
                log.warning("close_failed", error=repr(exc))
        await db.close()

    try:
        ingest = build_ingest_service(
            settings, db, closers, feeds=FeedRepo(db), articles=ArticleRepo(db), policy=post_policy(settings)
        )
    except BaseException:
        await close()
        raise
    return ingest, close
