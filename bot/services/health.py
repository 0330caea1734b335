"""Health: is the database writable, was Telegram reached lately, is the ingest loop alive, how old is the
oldest post waiting to go out? Each check is a probe (given by the runtime); this module only runs them,
each within a timeout, and turns the answers into `/healthz`'s verdict. Nothing here raises.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["Health", "HealthProbes"]

PROBE_TIMEOUT = 3.0


@dataclass(frozen=True, slots=True)
class HealthProbes:
    write_database: Callable[[], Awaitable[None]]  # a tiny write in a transaction
    telegram_age: Callable[[], float | None]  # seconds since Telegram last answered; None = never yet
    ingest_alive: Callable[[], bool]
    oldest_queued_age: Callable[[], Awaitable[float | None]]  # seconds; None = nothing waiting


class Health:
    def __init__(self, probes: HealthProbes, *, telegram_within: float, queue_within: float) -> None:
        self.probes = probes
        self.telegram_within = telegram_within
        self.queue_within = queue_within

    async def check(self) -> tuple[bool, dict[str, dict[str, Any]]]:
        checks = {
            "database": await self._database(),
            "telegram": self._telegram(),
            "ingest": {"ok": self.probes.ingest_alive()},
            "queue": await self._queue(),
        }
        return all(c["ok"] for c in checks.values()), checks

    async def _database(self) -> dict[str, Any]:
        try:
            # shielded: a write is never cancelled half-way (it finishes, or fails on the busy timeout)
            await asyncio.wait_for(asyncio.shield(self.probes.write_database()), PROBE_TIMEOUT)
        except Exception as exc:  # noqa: BLE001 - any failure is the answer
            return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:200]}
        return {"ok": True}

    def _telegram(self) -> dict[str, Any]:
        age = self.probes.telegram_age()
        if age is None:
            return {"ok": False, "error": "Telegram has not answered yet"}
        return {"ok": age <= self.telegram_within, "seconds_since_answer": round(age, 1)}

    async def _queue(self) -> dict[str, Any]:
        try:
            age = await asyncio.wait_for(self.probes.oldest_queued_age(), PROBE_TIMEOUT)
        except Exception as exc:  # noqa: BLE001 - the database check says more
            return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:200]}
        if age is None:
            return {"ok": True, "oldest_queued_seconds": None}
        return {"ok": age <= self.queue_within, "oldest_queued_seconds": round(age, 1)}
