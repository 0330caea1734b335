"""`newsbot backup PATH [--force]`: an online backup of DATABASE_PATH (safe while the bot runs), checked,
with one summary line; restoring is in the README."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bot.adapters.backup import backup
from bot.settings import Settings


async def cmd_backup(settings: Settings, args: argparse.Namespace) -> int:
    result = await backup(settings.database_path, Path(args.path), force=args.force)
    print(result.summary())
    return 0


def add_backup_parser(sub: Any) -> None:
    parser = sub.add_parser("backup", help="copy the database while the bot runs, and check the copy")
    parser.add_argument("path", metavar="PATH", help="the backup file to write")
    parser.add_argument("--force", action="store_true", help="replace PATH if it exists")
    parser.set_defaults(handler=cmd_backup)
