"""The audit log's entries and how they read in /audit and `newsbot audit`.

Storing them is bot/adapters/repo_audit.py's; recording who changed what is the admin commands' and the
review service's (through bot/services/audit.py).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime

from bot.core.telegram_html import utf16_len

__all__ = ["SHELL", "AuditEntry", "audit_lines", "audit_message"]

AUDIT_HEAD = "<b>Latest changes</b> (newest first)"

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


def audit_message(entries: list[AuditEntry], *, limit: int = 4096) -> str:
    """/audit's Telegram HTML: the heading and as many escaped lines, newest first, as fit `limit` UTF-16
    units once parsed ("No admin changes yet." when there are none)."""
    lines = audit_lines(entries)
    if not lines:
        return "No admin changes yet."
    out, used = [AUDIT_HEAD], utf16_len("Latest changes (newest first)")
    for line in lines:
        cost = utf16_len(line) + 1  # its newline
        if used + cost > limit:
            break
        out.append(html.escape(line, quote=False))
        used += cost
    return "\n".join(out)
