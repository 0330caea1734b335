"""The subscription DM loop: sends each queued dm_outbox row to its reader, paced and error-aware.

Pacing: about one message a second per reader and at most `per_second` in all (under Telegram's 30/s, leaving
room for channel posts and command replies). A reader who blocked the bot or never started it (403) is
unsubscribed from everything and their queued messages are dropped; a 429 pauses all sending for its
retry_after. Delivery is at most once: a send whose answer never came is not repeated. Queueing the rows is
`ArticleRepo.store`'s job, the message text is `bot/core/replies.dm_text`, Telegram calls are the sender's.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, Protocol

import structlog

from bot.core.delivery import (
    ChatForbidden,
    DeliveryError,
    DeliveryUnknown,
    FloodWait,
    Rejected,
    TransientError,
    backoff_seconds,
)
from bot.core.dm import PendingDM, dm_text, reader_gone
from bot.core.pacing import Pacer, RateWindow
from bot.core.timeutil import utcnow

log = structlog.get_logger(__name__)

MAX_ATTEMPTS = 5


class _Outcome(Enum):
    DONE = "done"  # sent, or recorded as failed / to retry in a later batch
    AGAIN = "again"  # flood wait: the same message goes next, once allowed
    GONE = "gone"  # the reader blocked the bot: their other messages were dropped


class DMStore(Protocol):
    async def pending(self, limit: int = ...) -> list[PendingDM]: ...
    async def mark_sent(self, dm_id: int, now: datetime) -> None: ...
    async def mark_failed(self, dm_id: int, error: str) -> None: ...
    async def note_error(self, dm_id: int, error: str) -> None: ...
    async def drop_reader(self, user_id: int, reason: str) -> tuple[int, int]: ...
    async def expire(self, older_than: datetime) -> int: ...


class DMSender(Protocol):
    async def send(self, chat_id: str, text: str, *, html: bool, preview_url: str | None) -> int: ...


class Fanout:
    """Owns the DM loop; `loop(bot, stop)` runs under the runtime's supervisor."""

    def __init__(
        self,
        store: DMStore,
        make_sender: Callable[[Any], DMSender],
        *,
        per_second: int = 20,
        per_chat_interval: float = 1.0,
        max_age: timedelta = timedelta(hours=24),
        poll_seconds: float = 2.0,
        batch: int = 200,
        clock: Callable[[], datetime] = utcnow,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self._make_sender = make_sender
        self.pacer = Pacer(RateWindow(1, per_chat_interval), RateWindow(per_second, 1.0))
        self.max_age = max_age
        self.poll_seconds = poll_seconds
        self.batch = batch
        self._clock = clock
        self._mono = monotonic
        self._attempts: dict[int, int] = {}
        self._wake = asyncio.Event()
        self.sent = 0

    def wake(self) -> None:
        """New DMs were queued: look now rather than at the next poll."""
        self._wake.set()

    async def loop(self, bot: Any, stop: asyncio.Event) -> None:
        if bot is None:
            log.info("fanout_disabled", reason="no Telegram bot in this process")
            return
        sender = self._make_sender(bot)
        while not stop.is_set():
            try:
                worked = await self.run_batch(sender, stop)
            except Exception as exc:  # a database hiccup or a bug: log, breathe, go on
                log.exception("fanout_step_failed", error=repr(exc))
                worked = 0
            if not worked:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(_first(stop, self._wake), timeout=self.poll_seconds)

    async def run_batch(self, sender: DMSender, stop: asyncio.Event) -> int:
        """Send a batch of queued DMs in order, each reader at their own pace; returns how many were tried."""
        queue = await self.store.pending(self.batch)
        cutoff = self._clock() - self.max_age
        if any(dm.queued_at < cutoff for dm in queue):  # expiring writes: only when something is stale
            expired = await self.store.expire(cutoff)
            log.info("dm_expired", count=expired)
            queue = await self.store.pending(self.batch)
        tried = 0
        while queue and not stop.is_set():
            now = self._mono()
            index = next(
                (i for i, dm in enumerate(queue) if self.pacer.per_chat.wait_time(dm.user_id, now) == 0),
                None,
            )
            if index is None:
                wait = min(self.pacer.per_chat.wait_time(dm.user_id, now) for dm in queue)
                if wait > self.poll_seconds:
                    break  # only readers backing off are left: look for newcomers first
                await _sleep(wait, stop)
                continue
            overall = self.pacer.overall.wait_time(None, now)
            if overall > 0:
                await _sleep(overall, stop)
                continue
            dm = queue.pop(index)
            self.pacer.record(dm.user_id, now)
            tried += 1
            outcome = await self._send(sender, dm)
            # a reader's next DM is spaced from when this one went, which the send budget may have
            # delayed (their window holds one event: this moves it)
            self.pacer.per_chat.record(dm.user_id, self._mono())
            if outcome is _Outcome.AGAIN:
                queue.insert(index, dm)  # the same message, once the flood wait is over
            elif outcome is _Outcome.GONE:
                queue = [q for q in queue if q.user_id != dm.user_id]
        return tried

    async def _send(self, sender: DMSender, dm: PendingDM) -> _Outcome:
        """Send one DM and record the outcome."""
        text = dm_text(dm.article, dm.topics)
        try:
            await sender.send(str(dm.user_id), text, html=True, preview_url=dm.article.url)
        except FloodWait as exc:
            until = self._mono() + exc.retry_after
            self.pacer.overall.block(None, until)
            self.pacer.per_chat.block(dm.user_id, until)
            log.warning("dm_flood_wait", user_id=dm.user_id, retry_after=exc.retry_after)
            return _Outcome.AGAIN
        except ChatForbidden as exc:
            return await self._reader_gone(dm, exc)
        except Rejected as exc:
            if reader_gone(exc.reason, forbidden=False):
                return await self._reader_gone(dm, exc)
            await self.store.mark_failed(dm.id, exc.reason)
            log.error("dm_rejected", dm_id=dm.id, user_id=dm.user_id, error=exc.reason)
            return _Outcome.DONE
        except DeliveryUnknown as exc:
            await self.store.mark_failed(dm.id, f"maybe delivered: {exc.reason}")
            log.warning("dm_unknown", dm_id=dm.id, user_id=dm.user_id, error=exc.reason)
            return _Outcome.DONE
        except TransientError as exc:
            await self._retry_later(dm, exc)
            return _Outcome.DONE
        except DeliveryError as exc:  # bad markup, too long: a bug in the text, not worth retrying
            await self.store.mark_failed(dm.id, exc.reason)
            log.error("dm_failed", dm_id=dm.id, user_id=dm.user_id, error=exc.reason)
            return _Outcome.DONE
        self._attempts.pop(dm.id, None)
        await self.store.mark_sent(dm.id, self._clock())
        self.sent += 1
        log.debug("dm_sent", dm_id=dm.id, user_id=dm.user_id, article_id=dm.article.id)
        return _Outcome.DONE

    async def _reader_gone(self, dm: PendingDM, exc: DeliveryError) -> _Outcome:
        subs, dropped = await self.store.drop_reader(dm.user_id, exc.reason)
        log.info("dm_reader_gone", user_id=dm.user_id, reason=exc.reason, unsubscribed=subs, dropped=dropped)
        return _Outcome.GONE

    async def _retry_later(self, dm: PendingDM, exc: DeliveryError) -> None:
        attempt = self._attempts.get(dm.id, 0) + 1
        if attempt >= MAX_ATTEMPTS:
            self._attempts.pop(dm.id, None)
            await self.store.mark_failed(dm.id, exc.reason)
            log.error("dm_gave_up", dm_id=dm.id, user_id=dm.user_id, attempts=attempt, error=exc.reason)
            return
        self._attempts[dm.id] = attempt
        delay = backoff_seconds(attempt)
        self.pacer.per_chat.block(dm.user_id, self._mono() + delay)
        await self.store.note_error(dm.id, exc.reason)
        log.warning("dm_retry_later", dm_id=dm.id, user_id=dm.user_id, attempt=attempt, delay=delay)


async def _sleep(seconds: float, stop: asyncio.Event) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=max(seconds, 0.001))


async def _first(*events: asyncio.Event) -> None:
    waiters = [asyncio.create_task(e.wait()) for e in events]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waiters:
            w.cancel()
        await asyncio.gather(*waiters, return_exceptions=True)
