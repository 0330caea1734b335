"""SQL for the feeds table: subscriptions, fetch state, errors, schedule, pace and the WebSub hub each
advertises (with its subscription's state, read from `websub`: `repo_websub.py`). Rows leave as `Feed`."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from bot.adapters.db import Database
from bot.core.errors import DuplicateFeedError
from bot.core.models import Feed, FetchOutcome, Pace
from bot.core.pings import PINGED_WITHIN
from bot.core.timeutil import from_epoch, to_epoch

# A feed's live WebSub subscription (at most one: a partial unique index), as a word and its last error.
_PUSH = (
    "(SELECT CASE WHEN w.state != 'verified' THEN w.state"
    " WHEN w.expires_at > CAST(strftime('%s', 'now') AS INTEGER) THEN 'pushed' ELSE 'lapsed' END"
    " FROM websub w WHERE w.feed_id = feeds.id AND w.state != 'unsubscribing') AS push,"
    " (SELECT w.last_error FROM websub w WHERE w.feed_id = feeds.id AND w.state != 'unsubscribing')"
    " AS push_error"
)
# Pinged lately: a ping had the bot read the feed within PINGED_WITHIN (bot/core/pings.py).
_PINGED = (
    f"(pinged_at > CAST(strftime('%s', 'now') AS INTEGER) - {int(PINGED_WITHIN.total_seconds())}) AS pinged"
)
_COLUMNS = (
    "id, url, title, enabled, etag, last_modified, last_fetched_at, next_fetch_at, error_count, "
    "last_error, synced, site_url, pace_gap, pace_last, poll_interval, websub_hub, websub_topic, review, "
    f"{_PINGED}, {_PUSH}"
)


def _row_to_feed(row: sqlite3.Row) -> Feed:
    return Feed(
        id=row["id"],
        url=row["url"],
        title=row["title"],
        enabled=bool(row["enabled"]),
        etag=row["etag"],
        last_modified=row["last_modified"],
        last_fetched_at=from_epoch(row["last_fetched_at"]),
        next_fetch_at=from_epoch(row["next_fetch_at"]),
        error_count=row["error_count"],
        last_error=row["last_error"],
        synced=bool(row["synced"]),
        site_url=row["site_url"],
        pace=Pace(row["pace_gap"], from_epoch(row["pace_last"])),
        poll_interval=row["poll_interval"],
        websub_hub=row["websub_hub"],
        websub_topic=row["websub_topic"],
        push=row["push"],
        push_error=row["push_error"],
        pinged=bool(row["pinged"]),
        review=None if row["review"] is None else bool(row["review"]),
    )


class FeedRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, url: str, now: datetime, *, title: str | None = None) -> Feed:
        try:
            feed_id = await self.db.execute_write(
                "INSERT INTO feeds (url, title, added_at, next_fetch_at) VALUES (?, ?, ?, 0)",
                (url, title, to_epoch(now)),
            )
        except sqlite3.IntegrityError as exc:
            raise DuplicateFeedError(f"feed already added: {url}") from exc
        feed = await self.get(feed_id)
        assert feed is not None
        return feed

    async def ensure(self, url: str, now: datetime) -> tuple[Feed, bool]:
        """Add unless present; returns (feed, created)."""
        existing = await self.by_url(url)
        if existing is not None:
            return existing, False
        return await self.add(url, now), True

    async def get(self, feed_id: int) -> Feed | None:
        row = await self.db.fetchone(f"SELECT {_COLUMNS} FROM feeds WHERE id = ?", (feed_id,))
        return _row_to_feed(row) if row else None

    async def by_url(self, url: str) -> Feed | None:
        row = await self.db.fetchone(f"SELECT {_COLUMNS} FROM feeds WHERE url = ?", (url,))
        return _row_to_feed(row) if row else None

    async def all(self, *, enabled_only: bool = False) -> list[Feed]:
        where = "WHERE enabled = 1" if enabled_only else ""
        rows = await self.db.fetchall(f"SELECT {_COLUMNS} FROM feeds {where} ORDER BY id")
        return [_row_to_feed(r) for r in rows]

    async def due(self, now: datetime) -> list[Feed]:
        rows = await self.db.fetchall(
            f"SELECT {_COLUMNS} FROM feeds WHERE enabled = 1 AND next_fetch_at <= ?"
            " ORDER BY next_fetch_at, id",
            (to_epoch(now),),
        )
        return [_row_to_feed(r) for r in rows]

    async def next_due_at(self) -> datetime | None:
        row = await self.db.fetchone("SELECT MIN(next_fetch_at) FROM feeds WHERE enabled = 1")
        return from_epoch(row[0]) if row and row[0] is not None else None

    async def mark_pinged(self, feed_ids: list[int], now: datetime) -> None:
        """A ping had these feeds read now (shown as "pinged" in /feeds for PINGED_WITHIN)."""
        if feed_ids:
            marks = ",".join("?" * len(feed_ids))
            await self.db.execute_write(
                f"UPDATE feeds SET pinged_at = ? WHERE id IN ({marks})", (to_epoch(now), *feed_ids)
            )

    async def remove(self, feed_id: int) -> bool:
        return await self.db.execute_write("DELETE FROM feeds WHERE id = ?", (feed_id,)) > 0

    async def set_enabled(self, feed_id: int, enabled: bool) -> bool:
        changed = await self.db.execute_write(
            "UPDATE feeds SET enabled = ?, next_fetch_at = 0, error_count = 0, poll_interval = NULL"
            " WHERE id = ?",
            (int(enabled), feed_id),
        )
        return changed > 0

    async def record_outcomes(self, outcomes: list[FetchOutcome]) -> None:
        """Write many fetch results in one short transaction (a warm cycle is mostly 304s)."""
        if not outcomes:
            return
        async with self.db.transaction() as conn:
            for o in outcomes:
                params = {
                    "id": o.feed_id,
                    "now": to_epoch(o.now),
                    "next": to_epoch(o.next_fetch_at),
                    "etag": o.etag,
                    "lm": o.last_modified,
                    "title": o.title,
                    "site": o.site_url,
                    "err": o.error,
                    "synced": int(o.synced),
                    "enabled": 0 if o.disable else 1,
                    "gap": o.pace.gap if o.pace else None,
                    "last": to_epoch(o.pace.last) if o.pace and o.pace.last else None,
                    "interval": o.poll_interval,
                    "wread": int(o.websub_read),
                    "whub": o.websub_hub,
                    "wtopic": o.websub_topic,
                }
                if o.ok:
                    await conn.execute(
                        "UPDATE feeds SET last_fetched_at = :now, next_fetch_at = :next, error_count = 0,"
                        " last_error = NULL, etag = COALESCE(:etag, etag),"
                        " last_modified = COALESCE(:lm, last_modified), title = COALESCE(:title, title),"
                        " site_url = COALESCE(:site, site_url), synced = MAX(synced, :synced),"
                        " pace_gap = COALESCE(:gap, pace_gap), pace_last = COALESCE(:last, pace_last),"
                        " poll_interval = COALESCE(:interval, poll_interval),"
                        " websub_hub = CASE WHEN :wread THEN :whub ELSE websub_hub END,"
                        " websub_topic = CASE WHEN :wread THEN :wtopic ELSE websub_topic END"
                        " WHERE id = :id",
                        params,
                    )
                else:
                    await conn.execute(
                        "UPDATE feeds SET last_fetched_at = :now, next_fetch_at = :next,"
                        " error_count = error_count + 1, last_error = :err, enabled = :enabled"
                        " WHERE id = :id",
                        params,
                    )
                if o.new_url:
                    clash = await conn.execute_fetchall("SELECT 1 FROM feeds WHERE url = ?", (o.new_url,))
                    if not clash:
                        await conn.execute("UPDATE feeds SET url = ? WHERE id = ?", (o.new_url, o.feed_id))
