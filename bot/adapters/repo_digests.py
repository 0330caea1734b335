"""SQL for digests: claiming a slot (at most once, ever), finishing it, and the stories a digest tells:
the channel's since its previous digest, and a daily reader's in their topics since their last one.

Stories skipped or dropped in review never appear; a reader's daily topics are `subscriptions.mode`.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

from bot.adapters.db import Database, json_strings
from bot.core.briefing import DigestStory
from bot.core.timeutil import from_epoch, to_epoch

_STORIES = (
    "SELECT a.id, a.headline, a.url, a.published_at,"
    " (SELECT json_group_array(t.name) FROM article_topics x JOIN topics t ON t.id = x.topic_id"
    "  WHERE x.article_id = a.id) AS topics,"
    " EXISTS (SELECT 1 FROM outbox o WHERE o.article_id = a.id AND o.breaking = 1) AS breaking"
    " FROM articles a WHERE a.first_seen_at > ?"
    " AND EXISTS (SELECT 1 FROM outbox o WHERE o.article_id = a.id AND o.review = 0"
    "  AND o.state IN ('queued', 'sending', 'sent', 'unknown'))"
)


def _story(r: sqlite3.Row) -> DigestStory:
    published = from_epoch(r["published_at"])
    assert published is not None
    return DigestStory(
        r["id"],
        r["headline"],
        r["url"],
        json_strings(r["topics"]),
        bool(r["breaking"]),
        published,
    )


class DigestRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def claim(
        self, kind: str, target: str, slot: str, *, since: datetime, state: str, now: datetime
    ) -> bool:
        """Take a slot for `target`; False when it was taken before (by this or another run)."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "INSERT OR IGNORE INTO digests (kind, target, slot, state, since_at, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (kind, target, slot, state, to_epoch(since), to_epoch(now)),
            )
            return cur.rowcount == 1

    async def finish(
        self,
        kind: str,
        target: str,
        slot: str,
        state: str,
        *,
        now: datetime,
        message_id: int | None = None,
        stories: int = 0,
        error: str | None = None,
    ) -> None:
        await self.db.execute_write(
            "UPDATE digests SET state = ?, sent_at = ?, message_id = ?, stories = ?, last_error = ?"
            " WHERE kind = ? AND target = ? AND slot = ?",
            (state, to_epoch(now), message_id, stories, error, kind, target, slot),
        )

    async def claimed(self, kind: str, target: str, slots: list[str]) -> set[str]:
        marks = ",".join("?" * len(slots))
        rows = await self.db.fetchall(
            f"SELECT slot FROM digests WHERE kind = ? AND target = ? AND slot IN ({marks})",
            (kind, target, *slots),
        )
        return {r[0] for r in rows}

    async def last_at(self, kind: str, target: str) -> datetime | None:
        """When the target's previous digest slot was claimed (its stories run from there)."""
        row = await self.db.fetchone(
            "SELECT MAX(created_at) FROM digests WHERE kind = ? AND target = ? AND state != 'missed'",
            (kind, target),
        )
        return from_epoch(row[0]) if row is not None and row[0] is not None else None

    async def stories_since(self, since: datetime, limit: int = 200) -> list[DigestStory]:
        rows = await self.db.fetchall(f"{_STORIES} ORDER BY a.id DESC LIMIT ?", (to_epoch(since), limit))
        return [_story(r) for r in rows]

    async def daily_readers(self) -> list[int]:
        rows = await self.db.fetchall(
            "SELECT DISTINCT user_id FROM subscriptions WHERE mode = 'daily' ORDER BY 1"
        )
        return [r[0] for r in rows]

    async def daily_stories(self, user_id: int, since: datetime, limit: int = 200) -> list[DigestStory]:
        rows = await self.db.fetchall(
            f"{_STORIES} AND a.id IN (SELECT x.article_id FROM article_topics x JOIN subscriptions s"
            "  ON s.topic_id = x.topic_id AND s.user_id = ? AND s.mode = 'daily')"
            " ORDER BY a.id DESC LIMIT ?",
            (to_epoch(since), user_id, limit),
        )
        return [_story(r) for r in rows]
