"""An admin's `/breaking <article>`: queue the article at the head of the channel as breaking news, or,
when it is already out, pin it; never post it twice.

The decision is one transaction in the store (ReviewRepo.breaking: a pending review becomes the admin's
'breaking' decision); pinning is Pins'; waking the publisher is the caller's callback.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.core.timeutil import utcnow
from bot.services.pins import Pins, PinSender

__all__ = ["BreakingDesk", "BreakingOutcome", "BreakingStore"]


class BreakingStore(Protocol):
    async def breaking(
        self, article_id: int, chat_id: str, *, by_id: int, by: str, now: datetime
    ) -> tuple[str, int | None]: ...


@dataclass(frozen=True, slots=True)
class BreakingOutcome:
    state: str  # queued, pinned, posted (not pinned), pin failed, in flight
    reply: str  # one line for the admin


@dataclass
class BreakingDesk:
    store: BreakingStore
    pins: Pins
    pin_breaking: bool
    wake: Callable[[], None]
    clock: Callable[[], datetime] = utcnow

    async def declare(
        self, article_id: int, channel: str, sender: PinSender, *, by_id: int, by: str
    ) -> BreakingOutcome:
        state, message_id = await self.store.breaking(
            article_id, channel, by_id=by_id, by=by, now=self.clock()
        )
        if state == "queued":
            self.wake()
            return BreakingOutcome("queued", f"🔴 Article {article_id} goes out now as breaking news.")
        if state != "posted" or message_id is None:
            return BreakingOutcome(
                "in flight", f"Article {article_id} is being sent right now; it is not sent twice."
            )
        if not self.pin_breaking:
            return BreakingOutcome(
                "posted", f"Article {article_id} is already posted (PIN_BREAKING is off); not posted twice."
            )
        reason = await self.pins.pin(sender, channel, message_id)
        if reason is not None:
            return BreakingOutcome(
                "pin failed", f"Article {article_id} is already posted; pinning it failed: {reason}"
            )
        return BreakingOutcome(
            "pinned", f"Article {article_id} is already posted; pinned it. Not posted twice."
        )
