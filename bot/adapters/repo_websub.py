"""SQL for WebSub: the hubs feeds advertise (feeds.websub_hub/topic) and the `websub` subscription rows.

Only the bot's WebSub service writes `websub`; ingest writes the discovered hub and topic with each
fetch outcome (`repo_feeds.record_outcomes`). Rows leave as `bot.core.websub_plan` values.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Any

from bot.adapters.db import Database
from bot.core.errors import StorageError
from bot.core.timeutil import from_epoch, to_epoch
from bot.core.websub_plan import HubFeed, Subscription, SubState

_COLUMNS = (
    "id, feed_id, hub, topic, callback, token, secret, state, next_action_at, lease_seconds, expires_at,"
    " attempts, last_error, verified_at, last_push_at"
)
_MUTABLE = frozenset(
    {"state", "next_action_at", "lease_seconds", "expires_at", "attempts", "last_error", "verified_at"}
)


def _row_to_sub(row: sqlite3.Row) -> Subscription:
    state: SubState = row["state"]
    return Subscription(
        id=row["id"],
        feed_id=row["feed_id"],
        hub=row["hub"],
        topic=row["topic"],
        callback=row["callback"],
        token=row["token"],
        secret=row["secret"],
        state=state,
        next_action_at=datetime.fromtimestamp(row["next_action_at"], UTC),
        lease_seconds=row["lease_seconds"],
        expires_at=from_epoch(row["expires_at"]),
        attempts=row["attempts"],
        last_error=row["last_error"],
        verified_at=from_epoch(row["verified_at"]),
        last_push_at=from_epoch(row["last_push_at"]),
    )


class WebSubRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def hub_feeds(self) -> list[HubFeed]:
        rows = await self.db.fetchall(
            "SELECT id, websub_hub, websub_topic, enabled, url FROM feeds"
            " WHERE websub_hub IS NOT NULL AND websub_topic IS NOT NULL ORDER BY id"
        )
        return [
            HubFeed(r["id"], r["websub_hub"], r["websub_topic"], bool(r["enabled"]), r["url"]) for r in rows
        ]

    async def all(self) -> list[Subscription]:
        rows = await self.db.fetchall(f"SELECT {_COLUMNS} FROM websub ORDER BY id")
        return [_row_to_sub(r) for r in rows]

    async def by_token(self, token: str) -> Subscription | None:
        row = await self.db.fetchone(f"SELECT {_COLUMNS} FROM websub WHERE token = ?", (token,))
        return _row_to_sub(row) if row else None

    async def get(self, sub_id: int) -> Subscription | None:
        row = await self.db.fetchone(f"SELECT {_COLUMNS} FROM websub WHERE id = ?", (sub_id,))
        return _row_to_sub(row) if row else None

    async def create(
        self,
        feed: HubFeed,
        *,
        callback: str,
        token: str,
        secret: str,
        now: datetime,
        next_action_at: datetime,
    ) -> Subscription | None:
        """A new 'requested' row; None when the feed has a live one already (or is gone)."""
        try:
            sub_id = await self.db.execute_write(
                "INSERT INTO websub (feed_id, hub, topic, callback, token, secret, state, next_action_at,"
                " created_at) SELECT :feed, :hub, :topic, :callback, :token, :secret, 'requested', :next,"
                " :now WHERE EXISTS (SELECT 1 FROM feeds WHERE id = :feed)",
                {
                    "feed": feed.feed_id,
                    "hub": feed.hub,
                    "topic": feed.topic,
                    "callback": callback,
                    "token": token,
                    "secret": secret,
                    "next": to_epoch(next_action_at),
                    "now": to_epoch(now),
                },
            )
        except sqlite3.IntegrityError:
            return None
        return await self.get(sub_id) if sub_id else None

    async def update(self, sub_id: int, *, only_in: tuple[SubState, ...] = (), **changes: Any) -> bool:
        """Set columns of one row (datetimes as Unix seconds); with `only_in`, only while its state is one
        of those (a hub's verification may have moved it on meanwhile). True when a row changed."""
        unknown = set(changes) - _MUTABLE
        if unknown:
            raise StorageError(f"websub columns not updatable: {sorted(unknown)}")
        params = {k: to_epoch(v) if isinstance(v, datetime) else v for k, v in changes.items()}
        sets = ", ".join(f"{name} = :{name}" for name in changes)
        where = "id = :id"
        if only_in:
            where += f" AND state IN ({', '.join(repr(s) for s in only_in)})"
        return (
            await self.db.execute_write(f"UPDATE websub SET {sets} WHERE {where}", {**params, "id": sub_id})
            > 0
        )

    async def record_push(self, sub_id: int, now: datetime) -> None:
        await self.db.execute_write(
            "UPDATE websub SET last_push_at = ? WHERE id = ?", (to_epoch(now), sub_id)
        )

    async def delete(self, sub_id: int) -> None:
        await self.db.execute_write("DELETE FROM websub WHERE id = ?", (sub_id,))

    async def suspend(self, reason: str, now: datetime) -> int:
        """WebSub is off in this run: no subscription counts as pushed (the feeds are polled as usual)."""
        return await self.db.execute_write(
            "UPDATE websub SET state = 'failed', last_error = ?, next_action_at = ?"
            " WHERE state IN ('requested', 'verified')",
            (reason, to_epoch(now)),
        )
