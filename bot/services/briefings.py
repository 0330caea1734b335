"""Digests on a clock: the channel's briefing at each DIGEST_TIMES slot, and each daily reader's digest at
the first slot of the day (08:00 when DIGEST_TIMES is empty), all in TIMEZONE.

A slot is claimed in storage before anything is sent, so a restart never doubles it; a slot missed while
the bot was down is posted late only within DIGEST_GRACE_MINUTES, else recorded as missed and logged.
Wording is bot/core/briefing.py's, storage DigestRepo's, Telegram the Send protocol's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo
from typing import Any, Protocol

import structlog

from bot.core.briefing import DigestStory, Due, decide, digest_html, title
from bot.core.daytime import QuietWindow, due_slot, notify
from bot.core.delivery import ChatForbidden, DeliveryError
from bot.core.timeutil import utcnow
from bot.services.looping import every

__all__ = ["BriefingConfig", "Briefings"]

log = structlog.get_logger(__name__)
FIRST_DIGEST_LOOKBACK = timedelta(hours=24)
DAILY_DEFAULT = time(8, 0)


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
    async def claimed(self, kind: str, target: str, slots: list[str]) -> set[str]: ...
    async def last_at(self, kind: str, target: str) -> datetime | None: ...
    async def stories_since(self, since: datetime, limit: int = ...) -> list[DigestStory]: ...
    async def daily_readers(self) -> list[int]: ...
    async def daily_stories(self, user_id: int, since: datetime, limit: int = ...) -> list[DigestStory]: ...


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
    dm_per_second: float = 20.0


class Briefings:
    def __init__(
        self,
        store: DigestStore,
        make_sender: Callable[[Any], Send],
        config: BriefingConfig,
        *,
        clock: Callable[[], datetime] = utcnow,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        self.store = store
        self.make_sender = make_sender
        self.config = config
        self.clock = clock
        self._sleep = sleep

    @property
    def daily_times(self) -> tuple[time, ...]:
        return self.config.times[:1] or (DAILY_DEFAULT,)

    async def loop(self, bot: Any, stop: asyncio.Event) -> None:
        if bot is None:
            return
        sender = self.make_sender(bot)
        await every(lambda: self.step(sender), stop, seconds=30, name="digests")

    async def step(self, sender: Send) -> None:
        """Post whatever slot is due now (channel and daily readers); safe to call at any time, repeatedly."""
        if self.config.channel_id and self.config.times:
            await self._channel(sender, self.config.channel_id)
        await self._daily(sender)

    async def _due(self, kind: str, target: str, times: tuple[time, ...], now: datetime) -> Due | None:
        slot = due_slot(now, times, self.config.zone)
        if slot is None:
            return None
        claimed = await self.store.claimed(kind, target, [slot.key])
        return decide(now, times, self.config.zone, self.config.grace, claimed)

    async def _channel(self, sender: Send, chat_id: str) -> None:
        now = self.clock()
        due = await self._due("channel", chat_id, self.config.times, now)
        if due is None:
            return
        since = await self.store.last_at("channel", chat_id) or now - FIRST_DIGEST_LOOKBACK
        if due.action == "missed":
            if await self.store.claim("channel", chat_id, due.slot.key, since=since, state="missed", now=now):
                log.warning(
                    "digest_missed",
                    slot=due.slot.key,
                    late_minutes=round((now - due.slot.when).total_seconds() / 60),
                )
            return
        if not await self.store.claim(
            "channel", chat_id, due.slot.key, since=since, state="sending", now=now
        ):
            return
        stories = await self.store.stories_since(since)
        text = digest_html(title(due.slot.when, self.config.zone), stories, self.config.size)
        if text is None:
            await self.store.finish("channel", chat_id, due.slot.key, "empty", now=now)
            log.info("digest_empty", slot=due.slot.key)
            return
        rings = notify(
            breaking=False,
            silent=False,
            now=now,
            window=self.config.quiet_window,
            zone=self.config.zone,
            default_silent=self.config.disable_notification,
        )
        shown = min(len(stories), self.config.size)
        try:
            message_id = await sender.send(chat_id, text, silent=not rings)
        except DeliveryError as exc:
            await self.store.finish("channel", chat_id, due.slot.key, "failed", now=now, error=str(exc))
            log.error("digest_failed", slot=due.slot.key, error=str(exc))
            return
        await self.store.finish(
            "channel", chat_id, due.slot.key, "sent", now=now, message_id=message_id, stories=shown
        )
        log.info("digest_posted", slot=due.slot.key, stories=shown, message_id=message_id)

    async def _daily(self, sender: Send) -> None:
        readers = await self.store.daily_readers()
        for n, user_id in enumerate(readers):
            now = self.clock()
            target = str(user_id)
            due = await self._due("daily", target, self.daily_times, now)
            if due is None or due.action == "missed":
                continue  # a reader's daily digest is never sent late: tomorrow's will tell the news
            since = await self.store.last_at("daily", target) or now - FIRST_DIGEST_LOOKBACK
            if not await self.store.claim(
                "daily", target, due.slot.key, since=since, state="sending", now=now
            ):
                continue
            heading = title(due.slot.when, self.config.zone, name="digest of your topics")
            text = digest_html(heading, await self.store.daily_stories(user_id, since), self.config.size)
            if text is None:
                await self.store.finish("daily", target, due.slot.key, "empty", now=now)
                continue
            try:
                message_id = await sender.send(target, text)
            except ChatForbidden as exc:
                await self.store.finish("daily", target, due.slot.key, "failed", now=now, error=str(exc))
                log.info("daily_digest_reader_gone", user_id=user_id)
                continue
            except DeliveryError as exc:
                await self.store.finish("daily", target, due.slot.key, "failed", now=now, error=str(exc))
                log.warning("daily_digest_failed", user_id=user_id, error=str(exc))
                continue
            await self.store.finish("daily", target, due.slot.key, "sent", now=now, message_id=message_id)
            if n + 1 < len(readers):
                await self._sleep(1.0 / self.config.dm_per_second)
