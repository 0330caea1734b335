"""Digests on a clock: the channel's briefing at each DIGEST_TIMES slot, and each daily reader's digest at
the first slot of the day (08:00 when DIGEST_TIMES is empty), all in TIMEZONE.

A slot is claimed in storage before anything is sent, so a restart never doubles it (a claim a stopped run
left in 'sending' is marked failed, never re-sent); a slot missed while the bot was down is posted late only
within DIGEST_GRACE_MINUTES, else recorded as missed and logged. Channel digests count on the publisher's
Pacer (the channel's 20 a minute is shared), readers' on the fan-out's (DM_PER_SECOND). Wording is
bot/core/briefing.py's, storage DigestRepo's, Telegram the Send protocol's.
"""

from __future__ import annotations

import asyncio
import contextlib
import time as monotonic_time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo
from typing import Any, Protocol

import structlog

from bot.core.briefing import MAX_NAP, Decision, DigestStory, decide, digest_html, reader_title, title
from bot.core.daytime import QuietWindow, due_slot, next_slot, notify
from bot.core.delivery import ChatForbidden, DeliveryError, FloodWait, Rejected
from bot.core.dm import reader_gone
from bot.core.i18n import ENGLISH, Translator
from bot.core.pacing import Pacer, RateWindow
from bot.core.timeutil import utcnow

__all__ = ["BriefingConfig", "Briefings"]

log = structlog.get_logger(__name__)
FIRST_DIGEST_LOOKBACK = timedelta(hours=24)
DAILY_DEFAULT = time(8, 0)
FLOOD_TRIES = 3
INTERRUPTED = "interrupted: the bot stopped while sending it (not re-sent: it may be out)"


class DigestStore(Protocol):
    async def claim(
        self, kind: str, target: str, slot: str, *, since: datetime, state: str, now: datetime
    ) -> bool: ...
    async def finish(
        self,
        kind: str,
        target: str,
        slot: str,
        state: str,
        *,
        now: datetime,
        message_id: int | None = ...,
        stories: int = ...,
        error: str | None = ...,
    ) -> None: ...
    async def fail_stale(self, reason: str, *, now: datetime) -> list[tuple[str, str, str]]: ...
    async def claimed(self, kind: str, target: str, slots: list[str]) -> set[str]: ...
    async def last_at(self, kind: str, target: str) -> datetime | None: ...
    async def stories_since(self, since: datetime, chat_id: str, limit: int = ...) -> list[DigestStory]: ...
    async def daily_due(self, slot: str) -> list[int]: ...
    async def daily_stories(self, user_id: int, since: datetime, limit: int = ...) -> list[DigestStory]: ...
    async def reader_language(self, user_id: int) -> str | None: ...


class Readers(Protocol):
    """The fan-out's store: a reader who blocked the bot is unsubscribed from everything (DMRepo)."""

    async def drop_reader(self, user_id: int, reason: str) -> tuple[int, int]: ...


class Send(Protocol):
    async def send(
        self, chat_id: str, text: str, buttons: Any = ..., *, reply_to: int | None = ..., silent: bool = ...
    ) -> int: ...


@dataclass(frozen=True, slots=True)
class BriefingConfig:
    channel_id: str | None
    times: tuple[time, ...]
    zone: tzinfo
    size: int = 8
    grace: timedelta = timedelta(minutes=60)
    quiet_window: QuietWindow | None = None
    disable_notification: bool = False
    # a reader's language (as recorded when they followed a topic; None = DEFAULT_LANGUAGE) → its Translator
    translator: Callable[[str | None], Translator] = lambda language: ENGLISH


class Briefings:
    """Owns the digest loop: `loop(bot, stop)` runs under the runtime's supervisor."""

    def __init__(
        self,
        store: DigestStore,
        readers: Readers,
        make_sender: Callable[[Any], Send],
        config: BriefingConfig,
        *,
        channel_pacer: Pacer | None = None,
        dm_pacer: Pacer | None = None,
        paused: Callable[[str], Awaitable[bool]] | None = None,
        clock: Callable[[], datetime] = utcnow,
        monotonic: Callable[[], float] = monotonic_time.monotonic,
    ) -> None:
        self.store = store
        self.readers = readers
        self.make_sender = make_sender
        self.config = config
        self.channel_pacer = channel_pacer or Pacer.telegram()
        self.dm_pacer = dm_pacer or Pacer(RateWindow(1, 1.0), RateWindow(20, 1.0))
        self.paused = paused  # the publisher's pause (/pause, or a 403): a due digest waits, grace permitting
        self.clock = clock
        self._mono = monotonic
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()

    @property
    def daily_times(self) -> tuple[time, ...]:
        return self.config.times[:1] or (DAILY_DEFAULT,)

    def wake(self) -> None:
        """Look at the clock now rather than at the next planned wake-up (a minute at most)."""
        self._wake.set()

    async def loop(self, bot: Any, stop: asyncio.Event) -> None:
        if bot is None:
            return
        sender = self.make_sender(bot)
        self._stop = stop
        await self.recover()
        while not stop.is_set():
            try:
                nap = await self.step(sender)
            except Exception as exc:  # a database hiccup or a bug: log, breathe, go on
                log.exception("digest_step_failed", error=repr(exc))
                nap = 5.0
            if nap > 0:
                await self._idle(nap, stop)

    async def recover(self) -> None:
        """A slot a stopped run left in 'sending' may be out already: mark it failed, never send it again."""
        for kind, target, slot in await self.store.fail_stale(INTERRUPTED, now=self.clock()):
            log.warning("digest_interrupted", kind=kind, target=target, slot=slot, reason=INTERRUPTED)

    async def step(self, sender: Send) -> float:
        """Post whatever slot is due now (channel and daily readers); returns seconds until it is worth
        looking again (0: at once). Safe to call at any time, repeatedly, from any number of processes."""
        naps = []
        if self.config.channel_id and self.config.times:
            naps.append(await self._channel(sender, self.config.channel_id))
        naps.append(await self._daily(sender))
        return min(naps)

    # -- the channel's briefing ----------------------------------------------------------------------------

    async def _channel(self, sender: Send, chat_id: str) -> float:
        now, cfg = self.clock(), self.config
        latest = due_slot(now, cfg.times, cfg.zone)
        claimed = await self.store.claimed("channel", chat_id, [latest.key]) if latest else set()
        due = decide(now, cfg.times, cfg.zone, cfg.grace, claimed)
        if due.slot is None:
            return due.nap(now)
        slot = due.slot
        since = await self.store.last_at("channel", chat_id) or now - FIRST_DIGEST_LOOKBACK
        if due.action == "missed":
            if await self.store.claim("channel", chat_id, slot.key, since=since, state="missed", now=now):
                late = round((now - slot.when).total_seconds() / 60)
                log.warning(
                    "digest_missed",
                    slot=slot.key,
                    late_minutes=late,
                    grace_minutes=cfg.grace.total_seconds() / 60,
                )
            return 0.0
        if self.paused is not None and await self.paused(chat_id):
            return MAX_NAP.total_seconds()  # posted if resumed within the grace, else missed
        if not await self.store.claim("channel", chat_id, slot.key, since=since, state="sending", now=now):
            return 0.0  # another run took it
        stories = await self.store.stories_since(since, chat_id)
        text = digest_html(title(slot.when, cfg.zone), stories, cfg.size)
        if text is None:
            await self.store.finish("channel", chat_id, slot.key, "empty", now=now)
            log.info("digest_empty", slot=slot.key, since=since.isoformat())
            return 0.0
        rings = notify(
            breaking=False,
            silent=False,
            now=now,
            window=cfg.quiet_window,
            zone=cfg.zone,
            default_silent=cfg.disable_notification,
        )
        shown = min(len(stories), cfg.size)
        try:
            message_id = await self._send(sender, self.channel_pacer, chat_id, text, silent=not rings)
        except Exception as exc:  # noqa: BLE001 - a failed digest is recorded, never retried or fatal
            await self.store.finish("channel", chat_id, slot.key, "failed", now=self.clock(), error=str(exc))
            log.error("digest_failed", slot=slot.key, error=str(exc))
            return 0.0
        await self.store.finish(
            "channel", chat_id, slot.key, "sent", now=self.clock(), message_id=message_id, stories=shown
        )
        log.info("digest_posted", slot=slot.key, stories=shown, message_id=message_id, silent=not rings)
        return 0.0

    # -- readers' daily digests ----------------------------------------------------------------------------

    async def _daily(self, sender: Send) -> float:
        now, cfg = self.clock(), self.config
        later = next_slot(now, self.daily_times, cfg.zone)
        resting = Decision("wait", None, later.when if later else None).nap(now)
        slot = due_slot(now, self.daily_times, cfg.zone)
        if slot is None or now - slot.when > cfg.grace:
            return resting  # never sent late: the next day's digest tells the news
        for user_id in await self.store.daily_due(slot.key):
            if self._stop.is_set():
                break
            await self._daily_one(sender, user_id, slot.key, slot.when)
        return resting

    async def _daily_one(self, sender: Send, user_id: int, key: str, when: datetime) -> None:
        now, target = self.clock(), str(user_id)
        since = await self.store.last_at("daily", target) or now - FIRST_DIGEST_LOOKBACK
        if not await self.store.claim("daily", target, key, since=since, state="sending", now=now):
            return
        t = self.config.translator(await self.store.reader_language(user_id))
        heading = reader_title(when, self.config.zone, t)
        stories = await self.store.daily_stories(user_id, since)
        text = digest_html(heading, stories, self.config.size, t)
        if text is None:
            await self.store.finish("daily", target, key, "empty", now=now)
            return
        try:
            message_id = await self._send(sender, self.dm_pacer, target, text, silent=False)
        except (ChatForbidden, Rejected) as exc:
            await self.store.finish("daily", target, key, "failed", now=self.clock(), error=str(exc))
            if reader_gone(exc.reason, forbidden=isinstance(exc, ChatForbidden)):
                subs, dropped = await self.readers.drop_reader(user_id, exc.reason)
                log.info(
                    "dm_reader_gone", user_id=user_id, reason=exc.reason, unsubscribed=subs, dropped=dropped
                )
            else:
                log.error("daily_digest_failed", user_id=user_id, error=str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - one reader's failure never stops the others
            await self.store.finish("daily", target, key, "failed", now=self.clock(), error=str(exc))
            log.warning("daily_digest_failed", user_id=user_id, error=str(exc))
            return
        shown = min(len(stories), self.config.size)
        await self.store.finish(
            "daily", target, key, "sent", now=self.clock(), message_id=message_id, stories=shown
        )
        log.info("daily_digest_sent", user_id=user_id, slot=key, stories=shown)

    # -- sending ---------------------------------------------------------------------------------------------

    async def _send(self, sender: Send, pacer: Pacer, chat_id: str, text: str, *, silent: bool) -> int:
        """One message within the pacer's budgets; a 429 blocks the pacer and the same message goes again."""
        for attempt in range(1, FLOOD_TRIES + 1):
            await self._nap(pacer.wait_time(chat_id, self._mono()))
            try:
                return await sender.send(chat_id, text, silent=silent)
            except FloodWait as exc:
                if attempt == FLOOD_TRIES:
                    raise
                until = self._mono() + exc.retry_after
                pacer.per_chat.block(chat_id, until)
                pacer.overall.block(None, until)
                log.warning("digest_flood_wait", chat_id=chat_id, retry_after=exc.retry_after)
            finally:
                pacer.record(chat_id, self._mono())
        raise DeliveryError(chat_id, "unreachable")  # pragma: no cover - the loop returns or raises

    async def _nap(self, seconds: float) -> None:
        if seconds > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=seconds)

    async def _idle(self, seconds: float, stop: asyncio.Event) -> None:
        waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
            await asyncio.gather(*waiters, return_exceptions=True)
        self._wake.clear()
