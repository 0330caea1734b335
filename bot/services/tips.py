"""Reader tips: a reader's /tip goes to the editors (REVIEW_CHAT_ID, else each admin) with their name and id,
limited to TIPS_PER_HOUR; an admin's reply to it goes back to the reader as the newsroom's. Blocked
readers (/block) are kept in memory here, refreshed from storage on every change.

Storage is TipRepo (bot/adapters/repo_tips.py), wording bot/core/tips.py, Telegram the Send protocol.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import structlog

from bot.core.delivery import ChatForbidden, DeliveryError
from bot.core.i18n import Msg, msg
from bot.core.timeutil import utcnow
from bot.core.tips import answer_for_reader, tip_for_editors
from bot.services.audit import Actor, Audit

__all__ = ["TipConfig", "TipService"]

log = structlog.get_logger(__name__)


class TipStore(Protocol):
    async def count_since(self, user_id: int, since: datetime) -> int: ...
    async def add(
        self, *, user_id: int, user_name: str, text: str, photo: str | None, now: datetime
    ) -> int: ...
    async def shown(self, tip_id: int, messages: list[tuple[str, int]]) -> None: ...
    async def reader_of(self, chat_id: str, message_id: int) -> tuple[int, int] | None: ...
    async def block(self, user_id: int, *, by: int, now: datetime) -> bool: ...
    async def unblock(self, user_id: int) -> bool: ...
    async def blocked(self) -> set[int]: ...


class Send(Protocol):
    async def send(
        self, chat_id: str, text: str, buttons: Any = ..., *, reply_to: int | None = ...
    ) -> int: ...
    async def send_photo(self, chat_id: str, photo: str, caption: str) -> int: ...


@dataclass(frozen=True, slots=True)
class TipConfig:
    targets: tuple[str, ...]
    admin_ids: frozenset[int]
    per_hour: int


@dataclass(frozen=True, slots=True)
class Tipster:
    id: int
    name: str
    username: str | None


class TipService:
    def __init__(
        self,
        store: TipStore,
        make_sender: Callable[[Any], Send],
        config: TipConfig,
        audit: Audit,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.make_sender = make_sender
        self.config = config
        self.audit = audit
        self.clock = clock
        self.blocked: set[int] = set()
        self._told: dict[int, datetime] = {}  # readers told they are over the limit, until when

    async def load(self) -> None:
        self.blocked = await self.store.blocked()

    def is_blocked(self, user_id: int) -> bool:
        return user_id in self.blocked and user_id not in self.config.admin_ids

    async def submit(self, bot: Any, reader: Tipster, text: str, photo: str | None = None) -> Msg | None:
        """Pass a tip on to the editors; returns the answer for the reader, to put in their language
        (None: say nothing)."""
        if self.config.per_hour == 0:
            return msg("Tips are off.")
        if not text and photo is None:
            return msg("Usage: /tip <what you saw or know>. A photo with a /tip caption works too.")
        now = self.clock()
        recent = await self.store.count_since(reader.id, now - timedelta(hours=1))
        if recent >= self.config.per_hour:
            if self._told.get(reader.id, now) > now:
                return None  # told once this hour: silence
            self._told[reader.id] = now + timedelta(hours=1)
            log.info("tip_rate_limited", user_id=reader.id, tips=recent)
            return msg("You've sent {n} tips this hour; please wait a while before sending more.", n=recent)
        tip_id = await self.store.add(
            user_id=reader.id, user_name=reader.name, text=text, photo=photo, now=now
        )
        sender = self.make_sender(bot)
        shown: list[tuple[str, int]] = []
        for chat_id in self.config.targets:
            body = tip_for_editors(
                text, name=reader.name, username=reader.username, user_id=reader.id, caption=photo is not None
            )
            try:
                if photo is not None:
                    shown.append((chat_id, await sender.send_photo(chat_id, photo, body)))
                else:
                    shown.append((chat_id, await sender.send(chat_id, body)))
            except DeliveryError as exc:
                log.warning("tip_delivery_failed", tip_id=tip_id, chat_id=chat_id, error=str(exc))
        await self.store.shown(tip_id, shown)
        log.info("tip_received", tip_id=tip_id, user_id=reader.id, shown=len(shown))
        if not shown:
            return msg("Sorry, your tip could not reach the newsroom just now. Please try again later.")
        return msg("Thanks — your tip went to the newsroom.")

    async def answer(
        self, bot: Any, chat_id: str, reply_to: int, text: str, actor: Actor, *, photo: str | None = None
    ) -> str | None:
        """An editor's reply to a tip goes to the reader (a photo with its caption); returns the confirmation
        for the editor, None when this is not an admin's reply to a tip (then nothing happens)."""
        if actor.id not in self.config.admin_ids:
            return None
        found = await self.store.reader_of(chat_id, reply_to)
        if found is None:
            return None
        tip_id, reader_id = found
        sender = self.make_sender(bot)
        try:
            if photo is not None:
                await sender.send_photo(str(reader_id), photo, answer_for_reader(text, caption=True))
            else:
                await sender.send(str(reader_id), answer_for_reader(text))
        except ChatForbidden:
            log.info("tip_answer_undeliverable", tip_id=tip_id, reader_id=reader_id)
            return "The reader has blocked the bot."
        except DeliveryError as exc:
            return f"The answer was not delivered: {exc}"
        await self.audit.record(actor, "tip answered", f"tip {tip_id} to reader {reader_id}")
        return "Sent to the reader."

    async def block(self, actor: Actor, user_id: int) -> str:
        if user_id in self.config.admin_ids:
            return "Admins can't be blocked."
        assert actor.id is not None
        changed = await self.store.block(user_id, by=actor.id, now=self.clock())
        await self.load()
        if changed:
            await self.audit.record(actor, "reader blocked", f"user {user_id}")
        return (
            f"Reader {user_id} is blocked from tips and commands."
            if changed
            else f"{user_id} was already blocked."
        )

    async def unblock(self, actor: Actor, user_id: int) -> str:
        changed = await self.store.unblock(user_id)
        await self.load()
        if changed:
            await self.audit.record(actor, "reader unblocked", f"user {user_id}")
        return f"Reader {user_id} is unblocked." if changed else f"{user_id} was not blocked."
