"""The audit trail every admin change goes through: `await audit.record(actor, "action", "detail")`.

Recording must never stop the change it records: a failed write is logged (with the change) and
swallowed. Who the actor is comes from the edge (a Telegram user, or the shell).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

import structlog

from bot.core.audit import SHELL, AuditEntry
from bot.core.timeutil import utcnow

__all__ = ["SHELL", "Actor", "Audit", "AuditStore"]

log = structlog.get_logger(__name__)


class AuditStore(Protocol):
    async def record(
        self, *, actor_id: int | None, actor: str, action: str, detail: str = "", now: datetime
    ) -> None: ...

    async def latest(self, limit: int = 20) -> list[AuditEntry]: ...


class Actor:
    """Who made a change: a Telegram user (id and display name) or the shell."""

    __slots__ = ("id", "name")

    def __init__(self, id: int | None, name: str) -> None:
        self.id = id
        self.name = name

    @classmethod
    def user(cls, user_id: int, first_name: str | None, username: str | None = None) -> Actor:
        label = (first_name or "").strip() or (f"@{username}" if username else "user")
        return cls(user_id, f"{label} ({user_id})")

    @classmethod
    def shell(cls) -> Actor:
        return cls(None, SHELL)


class Audit:
    def __init__(self, store: AuditStore, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.store = store
        self._clock = clock

    async def record(self, actor: Actor, action: str, detail: str = "") -> None:
        try:
            await self.store.record(
                actor_id=actor.id, actor=actor.name, action=action, detail=detail[:500], now=self._clock()
            )
        except Exception as exc:  # noqa: BLE001 - the change itself has happened; keep it in the log at least
            log.error("audit_record_failed", actor=actor.name, action=action, detail=detail, error=repr(exc))
        else:
            log.info("audit", actor=actor.name, action=action, detail=detail)

    async def latest(self, limit: int = 20) -> list[AuditEntry]:
        return await self.store.latest(limit)
