"""SQL for digests: claiming a slot (at most once, ever), finishing it, and the stories a digest tells:
the channel's since its previous digest, and a daily reader's in their topics since their last one.

Only stories that were posted (or are queued) count: skipped, failed or still-in-review outbox rows never
appear. A reader's daily topics are `subscriptions.mode = 'daily'`.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

from bot.adapters.db import Database, json_strings
from bot.core.briefing import DigestStory
from bot.core.timeutil import from_epoch, to_epoch

__all__ = ["DigestRepo", "StaleClaim"]

_LIVE = "o.article_id = a.id AND o.review = 0 AND o.state IN ('queued', 'sending', 'sent', 'unknown')"
_STORIES = (
    "SELECT a.id, a.headline, a.url, a.published_at,"
    " (SELECT json_group_array(t.name) FROM article_topics x JOIN topics t ON t.id = x.topic_id"
    "  WHERE x.article_id = a.id {topics}) AS topics,"
    " EXISTS (SELECT 1 FROM outbox o WHERE o.article_id = a.id AND o.breaking = 1) AS breaking"
    " FROM articles a WHERE a.first_seen_at > :since"
)
_READERS_TOPICS = (
    "AND x.topic_id IN (SELECT topic_id FROM subscriptions WHERE user_id = :user AND mode = 'daily')"
)

StaleClaim = tuple[str, str, str]  # (kind, target, slot)


def _story(r: sqlite3.Row) -> DigestStory:
    published = from_epoch(r["published_at"])
    assert published is not None
    return DigestStory(
        r["id"], r["headline"] or "", r["url"], json_strings(r["topics"]), bool(r["breaking"]), published
    )


class DigestRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def claim(
        self, kind: str, target: str, slot: str, *, since: datetime, state: str, now: datetime
    ) -> bool:
        """Take a slot for `target` in `state` ('sending' or 'missed'); False when it was taken before, by
        this run or any other (the primary key decides, so two processes cannot both win)."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "INSERT OR IGNORE INTO digests (kind, target, slot, state, since_at, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (kind, target, slot, state, to_epoch(since), to_epoch(now)),
            )
            claimed = cur.rowcount == 1
            await cur.close()
        return claimed

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
        """Record how a claimed slot ended: sent (with its message), empty or failed (with the reason)."""
        await self.db.execute_write(
            "UPDATE digests SET state = ?, sent_at = ?, message_id = ?, stories = ?, last_error = ?"
            " WHERE kind = ? AND target = ? AND slot = ?",
            (state, to_epoch(now), message_id, stories, error and error[:500], kind, target, slot),
        )

    async def fail_stale(self, reason: str, *, now: datetime) -> list[StaleClaim]:
        """Claims a stopped run left in 'sending' become 'failed' (never re-sent: the post may be out)."""
        async with self.db.transaction() as conn:
            rows = list(
                await conn.execute_fetchall(
                    "UPDATE digests SET state = 'failed', last_error = ?, sent_at = ?"
                    " WHERE state = 'sending' RETURNING kind, target, slot",
                    (reason, to_epoch(now)),
                )
            )
        return [(r[0], r[1], r[2]) for r in rows]

    async def claimed(self, kind: str, target: str, slots: list[str]) -> set[str]:
        marks = ",".join("?" * len(slots))
        rows = await self.db.fetchall(
            f"SELECT slot FROM digests WHERE kind = ? AND target = ? AND slot IN ({marks})",
            (kind, target, *slots),
        )
        return {r[0] for r in rows}

    async def last_at(self, kind: str, target: str) -> datetime | None:
        """When the target's previous digest (sent or found empty) was claimed: its stories run from there.
        Missed and failed slots told nobody anything, so they don't move the start."""
        row = await self.db.fetchone(
            "SELECT MAX(created_at) FROM digests"
            " WHERE kind = ? AND target = ? AND state IN ('sent', 'empty')",
            (kind, target),
        )
        return from_epoch(row[0]) if row is not None and row[0] is not None else None

    async def stories_since(self, since: datetime, chat_id: str, limit: int = 200) -> list[DigestStory]:
        """Articles first seen after `since` that were posted (or are queued) to `chat_id`, newest first."""
        rows = await self.db.fetchall(
            _STORIES.format(topics="")
            + f" AND EXISTS (SELECT 1 FROM outbox o WHERE {_LIVE} AND o.chat_id = :chat)"
            " ORDER BY a.id DESC LIMIT :limit",
            {"since": to_epoch(since), "chat": chat_id, "limit": limit},
        )
        return [_story(r) for r in rows]

    async def daily_due(self, slot: str) -> list[int]:
        """Readers with a daily topic whose digest for `slot` was not claimed yet."""
        rows = await self.db.fetchall(
            "SELECT DISTINCT s.user_id FROM subscriptions s WHERE s.mode = 'daily' AND NOT EXISTS"
            " (SELECT 1 FROM digests d WHERE d.kind = 'daily' AND d.target = CAST(s.user_id AS TEXT)"
            "  AND d.slot = ?) ORDER BY 1",
            (slot,),
        )
        return [r[0] for r in rows]

    async def reader_language(self, user_id: int) -> str | None:
        """The language the reader last followed a topic in (None: never recorded)."""
        row = await self.db.fetchone("SELECT language FROM reader_languages WHERE user_id = ?", (user_id,))
        return str(row[0]) if row is not None else None

    async def daily_stories(self, user_id: int, since: datetime, limit: int = 200) -> list[DigestStory]:
        """A reader's daily topics' articles first seen after `since` that went out (to any chat), each
        with only the reader's own topics (they group the digest)."""
        rows = await self.db.fetchall(
            _STORIES.format(topics=_READERS_TOPICS) + f" AND EXISTS (SELECT 1 FROM outbox o WHERE {_LIVE})"
            " AND a.id IN (SELECT x.article_id FROM article_topics x WHERE 1 = 1 " + _READERS_TOPICS + ")"
            " ORDER BY a.id DESC LIMIT :limit",
            {"since": to_epoch(since), "user": user_id, "limit": limit},
        )
        return [_story(r) for r in rows]
