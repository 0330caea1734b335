"""SQL for reader tips (and where editors saw them, so their replies find the reader) and blocked readers.

The rate limit, wording and routing are bot/services/tips.py's; each write here is one short transaction.
"""

from __future__ import annotations

from datetime import datetime

from bot.adapters.db import Database
from bot.core.timeutil import to_epoch


class TipRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def count_since(self, user_id: int, since: datetime) -> int:
        row = await self.db.fetchone(
            "SELECT COUNT(*) FROM tips WHERE user_id = ? AND created_at >= ?", (user_id, to_epoch(since))
        )
        return int(row[0]) if row else 0

    async def add(self, *, user_id: int, user_name: str, text: str, photo: str | None, now: datetime) -> int:
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "INSERT INTO tips (user_id, user_name, text, photo, created_at) VALUES (?, ?, ?, ?, ?)",
                (user_id, user_name, text, photo, to_epoch(now)),
            )
            assert cur.lastrowid is not None
            return cur.lastrowid

    async def shown(self, tip_id: int, messages: list[tuple[str, int]]) -> None:
        await self.db.executemany_write(
            "INSERT OR REPLACE INTO tip_messages (chat_id, message_id, tip_id) VALUES (?, ?, ?)",
            [(chat, mid, tip_id) for chat, mid in messages],
        )

    async def reader_of(self, chat_id: str, message_id: int) -> tuple[int, int] | None:
        """(tip id, reader id) of the tip an editor's message shows, None when it shows none."""
        row = await self.db.fetchone(
            "SELECT t.id, t.user_id FROM tip_messages m JOIN tips t ON t.id = m.tip_id"
            " WHERE m.chat_id = ? AND m.message_id = ?",
            (chat_id, message_id),
        )
        return (int(row[0]), int(row[1])) if row is not None else None

    async def block(self, user_id: int, *, by: int, now: datetime) -> bool:
        """Block a reader; False when already blocked."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "INSERT OR IGNORE INTO blocked_users (user_id, blocked_by, created_at) VALUES (?, ?, ?)",
                (user_id, by, to_epoch(now)),
            )
            return cur.rowcount == 1

    async def unblock(self, user_id: int) -> bool:
        return await self.db.execute_write("DELETE FROM blocked_users WHERE user_id = ?", (user_id,)) == 1

    async def blocked(self) -> set[int]:
        return {int(r[0]) for r in await self.db.fetchall("SELECT user_id FROM blocked_users")}
