"""Small values the bot keeps in `bot_state` (key → text), such as secrets made once per database."""

from __future__ import annotations

import secrets

from bot.adapters.db import Database

__all__ = ["stored_secret"]


async def stored_secret(db: Database, key: str, *, nbytes: int = 16) -> str:
    """The secret under `key`, made (hex, `nbytes` random bytes) and kept the first time it is asked for.

    Concurrent first calls agree: the insert is OR IGNORE and everyone reads back the row that won."""
    row = await db.fetchone("SELECT value FROM bot_state WHERE key = ?", (key,))
    if row is not None:
        return str(row[0])
    await db.execute_write(
        "INSERT OR IGNORE INTO bot_state (key, value) VALUES (?, ?)", (key, secrets.token_hex(nbytes))
    )
    row = await db.fetchone("SELECT value FROM bot_state WHERE key = ?", (key,))
    assert row is not None
    return str(row[0])
