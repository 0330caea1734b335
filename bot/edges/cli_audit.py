"""`newsbot audit [-n N]`: the latest admin changes (who, what, when), as /audit shows them in Telegram."""

from __future__ import annotations

import argparse
from typing import Any

from bot.adapters.db import Database
from bot.adapters.repo_audit import AuditRepo
from bot.core.audit import audit_lines
from bot.settings import Settings


async def cmd_audit(settings: Settings, args: argparse.Namespace) -> int:
    db = await Database(settings.database_path).open(migrate=True)
    try:
        lines = audit_lines(await AuditRepo(db).latest(args.n))
    finally:
        await db.close()
    print("\n".join(lines) if lines else "no admin changes recorded yet")
    return 0


def _count(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 10_000:
        raise argparse.ArgumentTypeError("must be 1..10000")
    return value


def add_audit_parser(sub: Any) -> None:
    audit = sub.add_parser("audit", help="the latest admin changes: who, what, when (as /audit)")
    audit.add_argument("-n", type=_count, default=20, help="how many, newest first (default 20)")
    audit.set_defaults(handler=cmd_audit)
