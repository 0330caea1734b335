"""The daily automatic backup: once a day (the file's date in its name tells whether today's exists, so a
restart never makes a second one) into BACKUP_DIR, keeping the newest BACKUP_KEEP. Copying is
bot/adapters/backup.py's.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import structlog

from bot.core.errors import NewsbotError
from bot.core.timeutil import utcnow
from bot.services.looping import every

__all__ = ["DailyBackups"]

log = structlog.get_logger(__name__)
_NAME = re.compile(r"^newsbot-(\d{4}-\d{2}-\d{2})\.db$")
Copier = Callable[[Path, Path], Awaitable[Any]]


class DailyBackups:
    def __init__(
        self,
        database: Path,
        directory: Path,
        keep: int,
        copy: Copier,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.database = database
        self.directory = directory
        self.keep = keep
        self.copy = copy
        self.clock = clock

    def existing(self) -> list[Path]:
        """This bot's daily backups, oldest first."""
        if not self.directory.is_dir():
            return []
        return sorted(p for p in self.directory.iterdir() if _NAME.match(p.name))

    async def step(self) -> Path | None:
        """Take today's backup if it is not there yet, then rotate; returns the new file, if any."""
        target = self.directory / f"newsbot-{self.clock():%Y-%m-%d}.db"
        made = None
        if not target.exists():
            try:
                self.directory.mkdir(parents=True, exist_ok=True)
                result = await self.copy(self.database, target)
            except (OSError, NewsbotError) as exc:  # one line, and tried again within the hour
                error = getattr(exc, "strerror", None) or str(exc)
                log.warning("backup_failed", path=str(target), error=error)
                return None
            log.info("backup_taken", path=str(target), summary=result.summary())
            made = target
        for old in self.existing()[: -self.keep]:
            old.unlink(missing_ok=True)
            log.info("backup_rotated", path=str(old))
        return made

    async def loop(self, bot: Any, stop: asyncio.Event) -> None:
        await every(self.step, stop, seconds=3600, name="backups")
