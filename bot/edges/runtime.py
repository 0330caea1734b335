"""The composition root: opens the database, builds adapters and services, and closes them again.

Concrete classes are chosen here and only here; services see adapters through their Protocols.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import structlog

from bot.adapters.db import Database
from bot.logs import register_secret
from bot.settings import Settings

log = structlog.get_logger(__name__)


@dataclass
class Runtime:
    """Everything a running bot holds. Built by `open_runtime`, closed by `close`."""

    settings: Settings
    db: Database
    channel_username: str | None = None
    implemented_commands: frozenset[str] = field(default_factory=lambda: frozenset({"start", "help"}))

    def channel_link(self) -> str | None:
        """https://t.me/<name> for the configured channel, when it has a public @name."""
        name = self.channel_username
        if name is None and self.settings.channel_id and self.settings.channel_id.startswith("@"):
            name = self.settings.channel_id[1:]
        return f"https://t.me/{name}" if name else None

    async def close(self) -> None:
        await self.db.close()


async def open_runtime(settings: Settings) -> Runtime:
    register_secret(settings.token)
    db = await Database(settings.database_path).open(migrate=True)
    return Runtime(settings=settings, db=db)
