"""The composition root: opens the database, builds adapters and services, and closes them again.

Concrete classes are chosen here and only here; services see adapters through their Protocols.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import structlog

from bot.adapters.db import Database
from bot.adapters.repo_articles import ArticleRepo
from bot.adapters.repo_feeds import FeedRepo
from bot.core.policy import PostPolicy
from bot.logs import register_secret
from bot.settings import Settings

log = structlog.get_logger(__name__)

# A long-running service loop: receives the PTB Bot (or None in shell commands) and a stop event.
BackgroundTask = Callable[[Any, asyncio.Event], Awaitable[None]]


@dataclass
class Runtime:
    """Everything a running bot holds. Built by `open_runtime`, closed by `close`."""

    settings: Settings
    db: Database
    feeds: FeedRepo
    articles: ArticleRepo
    policy: PostPolicy
    channel_username: str | None = None
    implemented_commands: set[str] = field(default_factory=lambda: {"start", "help"})
    background: list[tuple[str, BackgroundTask]] = field(default_factory=list)
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    def channel_link(self) -> str | None:
        """https://t.me/<name> for the configured channel, when it has a public @name."""
        name = self.channel_username
        if name is None and self.settings.channel_id and self.settings.channel_id.startswith("@"):
            name = self.settings.channel_id[1:]
        return f"https://t.me/{name}" if name else None

    async def close(self) -> None:
        for closer in reversed(self.closers):
            try:
                await closer()
            except Exception as exc:  # noqa: BLE001 - closing must go on whatever one part does
                log.warning("close_failed", error=repr(exc))
        await self.db.close()


def post_policy(settings: Settings) -> PostPolicy:
    return PostPolicy(
        backfill_max_posts=settings.backfill_max_posts,
        backfill_max_age=timedelta(hours=settings.backfill_max_age_hours),
        max_post_age=timedelta(hours=settings.max_post_age_hours),
    )


async def open_runtime(settings: Settings) -> Runtime:
    """Open storage and build every service. Services register their loops in `runtime.background`."""
    register_secret(settings.token)
    db = await Database(settings.database_path).open(migrate=True)
    runtime = Runtime(
        settings=settings,
        db=db,
        feeds=FeedRepo(db),
        articles=ArticleRepo(db),
        policy=post_policy(settings),
    )
    try:
        # Each service adds itself below (ingest, publisher, fan-out), in dependency order.
        pass
    except BaseException:
        await runtime.close()
        raise
    return runtime
