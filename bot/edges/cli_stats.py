"""`newsbot stats`: feeds, articles and the outbox (counts, publish latency, pauses, in-flight-unknown posts).

Reads the database only, safely next to a running bot (WAL); the numbers come from the repositories and
the wording from bot/core/status.py, which the admin /status command shares.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from typing import Any

from bot.adapters.db import Database
from bot.adapters.repo_articles import ArticleRepo
from bot.adapters.repo_feeds import FeedRepo
from bot.adapters.repo_outbox import OutboxRepo
from bot.core.errors import StorageError
from bot.core.models import Feed
from bot.core.status import StatusSnapshot, status_text
from bot.core.timeutil import utcnow
from bot.settings import Settings


async def collect_status(db: Database, feeds: list[Feed] | None = None) -> StatusSnapshot:
    """Everything `status_text` shows, read from an open database (`feeds`: already read by the caller)."""
    if feeds is None:
        feeds = await FeedRepo(db).all()
    fetched = [f.last_fetched_at for f in feeds if f.last_fetched_at is not None]
    return StatusSnapshot(
        feeds=len(feeds),
        feeds_enabled=sum(f.enabled for f in feeds),
        feeds_failing=sum(1 for f in feeds if f.enabled and f.error_count > 0),
        articles=await ArticleRepo(db).count(),
        publish=await OutboxRepo(db).stats(),
        last_fetch_at=max(fetched, default=None),
    )


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: _jsonable(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


async def cmd_stats(settings: Settings, args: argparse.Namespace) -> int:
    path = settings.database_path
    if not path.exists():
        raise StorageError(
            f"no database at {path}; start the bot once (`newsbot run`) or run `newsbot migrate`"
        )
    db = await Database(path).open(migrate=True)
    try:
        snapshot = await collect_status(db)
    finally:
        await db.close()
    if args.json:
        print(json.dumps(_jsonable(snapshot), indent=2, ensure_ascii=False))
    else:
        print(status_text(snapshot, utcnow()))
    return 0


def add_stats_parser(sub: Any) -> None:
    stats = sub.add_parser(
        "stats", help="feeds, articles, outbox by state, publish latency p50/p99, paused channels"
    )
    stats.set_defaults(handler=cmd_stats)
    stats.add_argument("--json", action="store_true", help="print the numbers as JSON")
