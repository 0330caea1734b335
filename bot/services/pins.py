"""Pins of breaking posts: pin one (the chat's previous breaking pin is lifted), lift pins after PIN_HOURS.

Telegram calls go through a PinSender and count against the publisher's per-chat Pacer; the record is
bot/adapters/repo_pins.py's. A pin that fails (no right to pin, the post is gone) is logged once per chat
and kind and never stops posting. Unpinning is always by message id, never "unpin all".
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

import structlog

from bot.core.delivery import DeliveryError, FloodWait, TransientError
from bot.core.pacing import Pacer
from bot.core.timeutil import utcnow

__all__ = ["PinSender", "PinStore", "Pins"]

log = structlog.get_logger(__name__)

RECHECK = timedelta(minutes=1)  # the longest the live pins go unlooked at (a pin made elsewhere)
RETRY = timedelta(seconds=30)  # after a flood wait or a network failure on unpinning


class PinStore(Protocol):
    async def record(self, chat_id: str, message_id: int, *, now: datetime) -> list[int]: ...
    async def live(self) -> list[tuple[str, int, datetime]]: ...
    async def lifted(self, chat_id: str, message_id: int, *, now: datetime) -> None: ...


class PinSender(Protocol):
    async def pin(self, chat_id: str, message_id: int) -> None: ...
    async def unpin(self, chat_id: str, message_id: int) -> None: ...


class Pins:
    """Owns the pin bookkeeping of one process (the publisher's, shared with /breaking)."""

    def __init__(
        self,
        store: PinStore,
        *,
        pin_for: timedelta,
        pacer: Pacer | None = None,
        clock: Callable[[], datetime] = utcnow,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.pin_for = pin_for
        self.pacer = pacer
        self._clock = clock
        self._mono = monotonic
        self._next_check: datetime | None = None  # None: look at the live pins at the next expire()
        self._warned: set[tuple[str, str]] = set()  # (event, chat) already logged as a warning

    async def pin(self, sender: PinSender, chat_id: str, message_id: int) -> str | None:
        """Pin a posted message (silently: the post itself rang) and lift the chat's previous pin.

        Returns None when pinned, else Telegram's reason (logged once per chat; nothing is raised)."""
        try:
            await sender.pin(chat_id, message_id)
        except DeliveryError as exc:
            self._warn("pin_failed", chat_id, message_id=message_id, reason=exc.reason)
            return exc.reason
        finally:
            self._count(chat_id)
        self._warned.discard(("pin_failed", chat_id))
        previous = await self.store.record(chat_id, message_id, now=self._clock())
        self._next_check = None
        log.info("post_pinned", chat_id=chat_id, message_id=message_id, unpinning=previous)
        for old in previous:
            await self._unpin(sender, chat_id, old)
        return None

    async def expire(self, sender: PinSender) -> None:
        """Lift pins older than PIN_HOURS whose chat's budget allows a call now (the rest wait a step)."""
        now = self._clock()
        if self._next_check is not None and now < self._next_check:
            return
        upcoming = now + RECHECK
        for chat_id, message_id, pinned_at in await self.store.live():
            due = pinned_at + self.pin_for
            if due > now:
                upcoming = min(upcoming, due)
            elif self.pacer is not None and self.pacer.wait_time(chat_id, self._mono()) > 0:
                upcoming = now  # this chat's budget is spent for now: try again at the next step
            elif not await self._unpin(sender, chat_id, message_id):
                upcoming = min(upcoming, now + RETRY)
        self._next_check = upcoming

    async def _unpin(self, sender: PinSender, chat_id: str, message_id: int) -> bool:
        """Unpin by message id; False when it is worth trying again later (a flood wait, a network error)."""
        try:
            await sender.unpin(chat_id, message_id)
        except (FloodWait, TransientError) as exc:
            if isinstance(exc, FloodWait) and self.pacer is not None:
                self.pacer.per_chat.block(chat_id, self._mono() + exc.retry_after)
            self._warn("unpin_later", chat_id, message_id=message_id, reason=exc.reason)
            return False
        except DeliveryError as exc:  # unpinned by hand, the post deleted, no rights: stop trying
            self._warn("unpin_failed", chat_id, message_id=message_id, reason=exc.reason)
        else:
            self._warned.discard(("unpin_failed", chat_id))
            log.info("post_unpinned", chat_id=chat_id, message_id=message_id)
        finally:
            self._count(chat_id)
        await self.store.lifted(chat_id, message_id, now=self._clock())
        return True

    def _count(self, chat_id: str) -> None:
        if self.pacer is not None:
            self.pacer.record(chat_id, self._mono())

    def _warn(self, event: str, chat_id: str, **fields: object) -> None:
        if (event, chat_id) in self._warned:
            log.debug(event, chat_id=chat_id, **fields)
            return
        self._warned.add((event, chat_id))
        log.warning(event, chat_id=chat_id, **fields)
