"""The audit log's entries and how they read in /audit and `newsbot audit`.

Storing them is bot/adapters/repo_audit.py's; recording who changed what is the admin commands' and the
review service's (through bot/services/audit.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["SHELL", "AuditEntry", "audit_lines"]

SHELL = "shell"  # the actor of changes made with `newsbot …` on the server


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: datetime
    actor_id: int | None
    actor: str  # a display name ("Ada (123)") or SHELL
    action: str  # short verb phrase: "feed added", "review decided", "paused"
    detail: str


def audit_lines(entries: list[AuditEntry]) -> list[str]:
    """One plain-text line per entry, newest first: `2026-12-03 10:42 UTC · Ada (123) · paused · why`."""
    out = []
    for e in entries:
        line = f"{e.at:%Y-%m-%d %H:%M} UTC · {e.actor} · {e.action}"
        if e.detail:
            line += f" · {e.detail}"
        out.append(line)
    return out
