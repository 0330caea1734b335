"""SQL for the audit log: one row per admin change (who, what, when), and the latest rows back.

What counts as a change and how it is worded is the callers'; this module only stores and reads.
"""

from __future__ import annotations

from datetime import datetime

from bot.adapters.db import Database
from bot.core.audit import AuditEntry
from bot.core.timeutil import from_epoch, to_epoch


class AuditRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(
        self, *, actor_id: int | None, actor: str, action: str, detail: str = "", now: datetime
    ) -> None:
        await self.db.execute_write(
            "INSERT INTO audit_log (at, actor_id, actor, action, detail) VALUES (?, ?, ?, ?, ?)",
            (to_epoch(now), actor_id, actor, action, detail),
        )

    async def latest(self, limit: int = 20) -> list[AuditEntry]:
        rows = await self.db.fetchall(
            "SELECT id, at, actor_id, actor, action, detail FROM audit_log ORDER BY id DESC LIMIT ?",
            (limit,),
        )
        out: list[AuditEntry] = []
        for r in rows:
            at = from_epoch(r["at"])
            assert at is not None
            out.append(AuditEntry(r["id"], at, r["actor_id"], r["actor"], r["action"], r["detail"]))
        return out
