"""Group chats and the topics they follow: joined and left (my_chat_member, a 403), moved (a group
upgraded to a supergroup: `move_group`, which OutboxRepo.move_chat runs with the queue's move), subscribed
by their admins.

A followed topic's new articles are queued for the group in `outbox` at ingest (repo_articles.py), so they
are paced (20 a minute per chat), retried, corrected and never lost like channel posts. Ending a group
removes its subscriptions and skips what was still queued for it; nothing more is sent there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from bot.adapters.db import Database
from bot.adapters.repo_topics import StoredTopic, TopicRepo
from bot.core.timeutil import to_epoch


@dataclass(frozen=True, slots=True)
class GroupChat:
    chat_id: int
    title: str
    state: str  # "member" or "left"


async def end_group(conn: aiosqlite.Connection, chat_id: int, reason: str, now: datetime) -> bool:
    """Within a transaction: the bot left `chat_id` (or was removed). False for a chat that is no group
    the bot has known (a channel, say); True for a group: its subscriptions and queue are ended (again,
    if a send raced the update that ended it)."""
    known = list(await conn.execute_fetchall("SELECT 1 FROM group_chats WHERE chat_id = ?", (chat_id,)))
    if not known:
        return False
    await conn.execute(
        "UPDATE group_chats SET state = 'left', left_at = ?, left_reason = ?"
        " WHERE chat_id = ? AND state = 'member'",
        (to_epoch(now), reason[:300], chat_id),
    )
    await conn.execute("DELETE FROM group_subscriptions WHERE chat_id = ?", (chat_id,))
    await conn.execute(
        "UPDATE outbox SET state = 'skipped', last_error = ?, last_error_at = ?"
        " WHERE chat_id = ? AND state IN ('queued', 'sending')",
        (f"the bot left the group: {reason}"[:300], to_epoch(now), str(chat_id)),
    )
    return True


async def move_group(conn: aiosqlite.Connection, old: int, new: int, now: datetime) -> None:
    """Within a transaction: a group became a supergroup with id `new`; it keeps its subscriptions."""
    await conn.execute(
        "INSERT INTO group_chats (chat_id, title, state, joined_at)"
        " SELECT ?, title, 'member', ? FROM group_chats WHERE chat_id = ? AND state = 'member'"
        " ON CONFLICT (chat_id) DO UPDATE SET state = 'member', left_at = NULL, left_reason = NULL",
        (new, to_epoch(now), old),
    )
    await conn.execute(
        "INSERT OR IGNORE INTO group_subscriptions (chat_id, topic_id, created_at, created_by)"
        " SELECT ?, topic_id, created_at, created_by FROM group_subscriptions WHERE chat_id = ?",
        (new, old),
    )
    await conn.execute("DELETE FROM group_chats WHERE chat_id = ?", (old,))


# The bot is in the group: added, or a subscription made there (its title refreshed; rejoining restarts it).
_JOINED_SQL = (
    "INSERT INTO group_chats (chat_id, title, state, joined_at) VALUES (?, ?, 'member', ?)"
    " ON CONFLICT (chat_id) DO UPDATE SET title = excluded.title, state = 'member',"
    " joined_at = CASE WHEN group_chats.state = 'left' THEN excluded.joined_at ELSE joined_at END,"
    " left_at = NULL, left_reason = NULL"
)


def group_number(chat_id: str) -> int | None:
    """A stored chat id as a group's number; None for an @name (channels only)."""
    text = chat_id.strip()
    return int(text) if text.lstrip("-").isdigit() else None


class GroupRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def joined(self, chat_id: int, title: str, now: datetime) -> None:
        """The bot is a member of this group (added, or seen answering there)."""
        await self.db.execute_write(_JOINED_SQL, (chat_id, title[:200], to_epoch(now)))

    async def left(self, chat_id: int, reason: str, now: datetime) -> bool:
        """The bot was removed: True when a group's subscriptions and queued posts were ended."""
        async with self.db.transaction() as conn:
            return await end_group(conn, chat_id, reason, now)

    async def get(self, chat_id: int) -> GroupChat | None:
        row = await self.db.fetchone(
            "SELECT chat_id, title, state FROM group_chats WHERE chat_id = ?", (chat_id,)
        )
        return None if row is None else GroupChat(row[0], row[1], row[2])

    async def subscribe(self, chat_id: int, title: str, topic_id: int, by: int | None, now: datetime) -> bool:
        """Follow a topic in the group; False when it already did."""
        async with self.db.transaction() as conn:
            await conn.execute(_JOINED_SQL, (chat_id, title[:200], to_epoch(now)))
            cur = await conn.execute(
                "INSERT OR IGNORE INTO group_subscriptions (chat_id, topic_id, created_at, created_by)"
                " VALUES (?, ?, ?, ?)",
                (chat_id, topic_id, to_epoch(now), by),
            )
            return cur.rowcount > 0

    async def unsubscribe(self, chat_id: int, topic_id: int) -> bool:
        removed = await self.db.execute_write(
            "DELETE FROM group_subscriptions WHERE chat_id = ? AND topic_id = ?", (chat_id, topic_id)
        )
        return removed > 0

    async def topics(self, chat_id: int) -> list[StoredTopic]:
        """The topics the group follows, by name."""
        return await TopicRepo(self.db).group_subscriptions(chat_id)

    async def counts(self) -> tuple[int, int]:
        """(groups the bot is in, group subscriptions), for status."""
        row = await self.db.fetchone(
            "SELECT (SELECT COUNT(*) FROM group_chats WHERE state = 'member'),"
            " (SELECT COUNT(*) FROM group_subscriptions)"
        )
        return (int(row[0]), int(row[1])) if row else (0, 0)
