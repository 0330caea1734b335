"""SQL for the `pins` table: which breaking posts the bot pinned, when, and which it has unpinned since.

Each change is one short transaction and none awaits the network: pinning and unpinning on Telegram, and
deciding when, are bot/services/pins.py's.
"""

from __future__ import annotations

from datetime import datetime

from bot.adapters.db import Database
from bot.core.timeutil import from_epoch, to_epoch


class PinRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(self, chat_id: str, message_id: int, *, now: datetime) -> list[int]:
        """Remember a pinned post; returns the chat's other live pins (the previous breaking story's)."""
        async with self.db.transaction() as conn:
            rows = await conn.execute_fetchall(
                "SELECT message_id FROM pins WHERE chat_id = ? AND unpinned_at IS NULL AND message_id != ?"
                " ORDER BY pinned_at",
                (chat_id, message_id),
            )
            await conn.execute(
                "INSERT INTO pins (chat_id, message_id, pinned_at) VALUES (?, ?, ?)"
                " ON CONFLICT (chat_id, message_id) DO UPDATE SET pinned_at = excluded.pinned_at,"
                " unpinned_at = NULL",
                (chat_id, message_id, to_epoch(now)),
            )
        return [int(r[0]) for r in rows]

    async def live(self) -> list[tuple[str, int, datetime]]:
        """Every pin not lifted yet as (chat id, message id, pinned at), oldest first."""
        rows = await self.db.fetchall(
            "SELECT chat_id, message_id, pinned_at FROM pins WHERE unpinned_at IS NULL ORDER BY pinned_at"
        )
        pins = []
        for row in rows:
            pinned_at = from_epoch(row[2])
            assert pinned_at is not None
            pins.append((str(row[0]), int(row[1]), pinned_at))
        return pins

    async def lifted(self, chat_id: str, message_id: int, *, now: datetime) -> None:
        """The pin is gone (unpinned by the bot, or found gone): never try it again."""
        await self.db.execute_write(
            "UPDATE pins SET unpinned_at = ? WHERE chat_id = ? AND message_id = ? AND unpinned_at IS NULL",
            (to_epoch(now), chat_id, message_id),
        )
