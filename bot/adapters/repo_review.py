"""SQL for the review queue: the switches, pending reviews, decisions (the first wins), edits, expiry, and
the preview and prompt messages shown to editors.

Rows come into `reviews` (and outbox rows with review = 1) from ArticleRepo.store, in the article's own
transaction. Each decision here is one short transaction that changes a pending review only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from bot.adapters.db import Database
from bot.adapters.repo_outbox import _ITEM_SQL, _item
from bot.adapters.repo_state import stored_secret
from bot.core.delivery import OutboxItem
from bot.core.review import REVIEW_KEY, SECRET_KEY, Decided
from bot.core.timeutil import from_epoch, to_epoch

__all__ = ["ReviewRepo", "ReviewRow"]


@dataclass(frozen=True, slots=True)
class ReviewRow:
    article_id: int
    state: str
    decided: Decided
    edited: bool
    created_at: datetime


def _row(r: aiosqlite.Row) -> ReviewRow:
    created = from_epoch(r["created_at"])
    assert created is not None
    decided = Decided(r["state"], r["decided_by_name"], from_epoch(r["decided_at"]))
    return ReviewRow(r["article_id"], r["state"], decided, r["headline"] is not None, created)


_REVIEW_SQL = "SELECT article_id, state, created_at, decided_at, decided_by_name, headline FROM reviews"


class ReviewRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- switches ------------------------------------------------------------------------------------------

    async def secret(self) -> str:
        return await stored_secret(self.db, SECRET_KEY)

    async def bot_wide(self) -> bool | None:
        """/review on|off as last said, None when never said (REVIEW applies)."""
        row = await self.db.fetchone("SELECT value FROM bot_state WHERE key = ?", (REVIEW_KEY,))
        return None if row is None else row[0] == "1"

    async def set_bot_wide(self, on: bool) -> None:
        await self.db.execute_write(
            "INSERT INTO bot_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = ?",
            (REVIEW_KEY, "1" if on else "0", "1" if on else "0"),
        )

    async def set_feed(self, feed_id: int, on: bool | None) -> bool:
        """A feed's own switch (None: follow the bot-wide one); False when there is no such feed."""
        value = None if on is None else int(on)
        return await self.db.execute_write("UPDATE feeds SET review = ? WHERE id = ?", (value, feed_id)) == 1

    # -- reviews -------------------------------------------------------------------------------------------

    async def get(self, article_id: int) -> ReviewRow | None:
        row = await self.db.fetchone(f"{_REVIEW_SQL} WHERE article_id = ?", (article_id,))
        return _row(row) if row is not None else None

    async def item(self, article_id: int) -> OutboxItem | None:
        """The article's post as it would go to its first chat (edits applied): what the preview shows."""
        row = await self.db.fetchone(
            f"{_ITEM_SQL} WHERE o.article_id = ? ORDER BY o.id LIMIT 1", (article_id,)
        )
        return _item(row) if row is not None else None

    async def unannounced(self, limit: int = 20) -> list[int]:
        rows = await self.db.fetchall(
            "SELECT article_id FROM reviews WHERE state = 'pending' AND announced = 0"
            " ORDER BY article_id LIMIT ?",
            (limit,),
        )
        return [r[0] for r in rows]

    async def add_messages(
        self, article_id: int, messages: list[tuple[str, int]], kind: str, now: datetime
    ) -> None:
        async with self.db.transaction() as conn:
            await conn.executemany(
                "INSERT OR REPLACE INTO review_messages (chat_id, message_id, article_id, kind, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                [(chat, mid, article_id, kind, to_epoch(now)) for chat, mid in messages],
            )
            if kind == "preview":
                await conn.execute("UPDATE reviews SET announced = 1 WHERE article_id = ?", (article_id,))

    async def messages(self, article_id: int, kind: str = "preview") -> list[tuple[str, int]]:
        rows = await self.db.fetchall(
            "SELECT chat_id, message_id FROM review_messages WHERE article_id = ? AND kind = ?"
            " ORDER BY created_at, message_id",
            (article_id, kind),
        )
        return [(r[0], r[1]) for r in rows]

    async def prompt_for(self, chat_id: str, message_id: int) -> int | None:
        row = await self.db.fetchone(
            "SELECT article_id FROM review_messages WHERE chat_id = ? AND message_id = ? AND kind = 'prompt'",
            (chat_id, message_id),
        )
        return int(row[0]) if row is not None else None

    async def decide(self, article_id: int, state: str, *, by_id: int, by: str, now: datetime) -> bool:
        """The first decision on a pending review wins (True); any later one changes nothing (False)."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "UPDATE reviews SET state = ?, decided_at = ?, decided_by = ?, decided_by_name = ?"
                " WHERE article_id = ? AND state = 'pending'",
                (state, to_epoch(now), by_id, by, article_id),
            )
            if cur.rowcount != 1:
                return False
            await _release(conn, article_id, state, now)
        return True

    async def edit(self, article_id: int, headline: str, dek: str) -> bool:
        """Store an editor's headline and dek for a pending review's posts (its new preview is then due);
        False when it is no longer pending."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "UPDATE reviews SET headline = ?, dek = ?, announced = 0"
                " WHERE article_id = ? AND state = 'pending'",
                (headline, dek, article_id),
            )
            if cur.rowcount != 1:
                return False
            await conn.execute(
                "UPDATE outbox SET headline_edit = ?, dek_edit = ? WHERE article_id = ? AND review = 1",
                (headline, dek, article_id),
            )
        return True

    async def expire(self, created_before: datetime, now: datetime) -> list[int]:
        """Pending reviews created before the cut-off become expired; their posts are skipped."""
        rows = await self.db.fetchall(
            "SELECT article_id FROM reviews WHERE state = 'pending' AND created_at < ?",
            (to_epoch(created_before),),
        )
        expired = []
        for (article_id,) in rows:
            async with self.db.transaction() as conn:
                cur = await conn.execute(
                    "UPDATE reviews SET state = 'expired', decided_at = ?"
                    " WHERE article_id = ? AND state = 'pending'",
                    (to_epoch(now), article_id),
                )
                if cur.rowcount == 1:
                    await _release(conn, article_id, "expired", now)
                    expired.append(article_id)
        return expired

    async def breaking(
        self, article_id: int, chat_id: str, *, by_id: int, by: str, now: datetime
    ) -> tuple[str, int | None]:
        """An admin's /breaking: ("posted", message id) when the article is already out in `chat_id` (pin
        it, never post twice), else ("queued", None) with its post at the head of the queue, as breaking."""
        async with self.db.transaction() as conn:
            rows = list(
                await conn.execute_fetchall(
                    "SELECT state, message_id FROM outbox WHERE article_id = ? AND chat_id = ?",
                    (article_id, chat_id),
                )
            )
            if rows and rows[0][0] in ("sent", "sending", "unknown"):
                return ("posted" if rows[0][0] == "sent" else "in flight", rows[0][1])
            await conn.execute(
                "UPDATE reviews SET state = 'breaking', decided_at = ?, decided_by = ?, decided_by_name = ?"
                " WHERE article_id = ? AND state = 'pending'",
                (to_epoch(now), by_id, by, article_id),
            )
            await _release(conn, article_id, "breaking", now)
            await conn.execute(
                "INSERT INTO outbox (article_id, chat_id, queued_at, breaking) VALUES (?, ?, ?, 1)"
                " ON CONFLICT (article_id, chat_id) DO UPDATE SET state = 'queued', breaking = 1,"
                " review = 0, silent = 0, not_before = 0, last_error = NULL"
                " WHERE state IN ('queued', 'skipped', 'failed')",
                (article_id, chat_id, to_epoch(now)),
            )
        return ("queued", None)

    async def unshown_outcomes(self, limit: int = 20) -> list[tuple[int, str | None, int | None]]:
        """Decided reviews whose previews still show no final outcome: (article, chat, message id of the
        sent post or None while it is not out). Posted ones wait until their first post is sent or ends."""
        rows = await self.db.fetchall(
            "SELECT r.article_id, o.chat_id, o.message_id, o.state FROM reviews r"
            " LEFT JOIN outbox o ON o.id = (SELECT MIN(id) FROM outbox WHERE article_id = r.article_id)"
            " WHERE r.state != 'pending' AND r.outcome_shown = 0 ORDER BY r.article_id LIMIT ?",
            (limit,),
        )
        return [
            (r[0], r[1], r[2] if r[3] == "sent" else None)
            for r in rows
            if r[3] != "queued" and r[3] != "sending"
        ]

    async def posted(self, article_id: int) -> tuple[str, int] | None:
        """The article's first post, once it is out: (chat id, message id)."""
        row = await self.db.fetchone(
            "SELECT chat_id, message_id FROM outbox WHERE article_id = ? AND state = 'sent'"
            " ORDER BY id LIMIT 1",
            (article_id,),
        )
        return (row[0], row[1]) if row is not None else None

    async def outcome_shown(self, article_id: int) -> None:
        await self.db.execute_write(
            "UPDATE reviews SET outcome_shown = 1 WHERE article_id = ?", (article_id,)
        )


async def find_article(db: Database, ref: int | str) -> int | None:
    """An article by id, or by its URL as stored (canonical)."""
    if isinstance(ref, int):
        row = await db.fetchone("SELECT id FROM articles WHERE id = ?", (ref,))
    else:
        row = await db.fetchone("SELECT id FROM articles WHERE url = ? ORDER BY id LIMIT 1", (ref,))
    return int(row[0]) if row is not None else None


async def _release(conn: aiosqlite.Connection, article_id: int, state: str, now: datetime) -> None:
    """Apply a decision to the article's outbox rows and its subscribers' messages (same transaction)."""
    if state in ("skip", "expired"):
        reason = "skipped by an editor" if state == "skip" else "review expired"
        await conn.execute(
            "UPDATE outbox SET state = 'skipped', review = 0, last_error = ?, last_error_at = ?"
            " WHERE article_id = ? AND review = 1",
            (reason, to_epoch(now), article_id),
        )
        return
    silent, breaking = int(state == "silent"), int(state == "breaking")
    await conn.execute(
        "UPDATE outbox SET review = 0, silent = ?, breaking = CASE WHEN ? THEN 0 ELSE MAX(breaking, ?) END"
        " WHERE article_id = ? AND review = 1",
        (silent, silent, breaking, article_id),
    )
    await conn.execute(
        "INSERT OR IGNORE INTO dm_outbox (user_id, article_id, queued_at)"
        " SELECT DISTINCT s.user_id, t.article_id, ? FROM article_topics t"
        " JOIN subscriptions s ON s.topic_id = t.topic_id AND s.mode = 'each' WHERE t.article_id = ?",
        (to_epoch(now), article_id),
    )
