"""The bot's one send budget as python-telegram-bot's rate limiter: every Bot API call of the process
passes here, and the ones that post or edit a message wait for room in `core.budget.SendBudget`.

Why one limiter and not each service's pacer alone: the publisher, the DM fan-out, digests, the review
board and the command handlers each pace their own sends, but Telegram counts them together (30 a second
over all chats). Here they queue in one place, granted in lane order (`Lane`: readers' replies first,
then posts, then bulk DMs), first come first served within a lane, and a call to a chat that is at its
own limit does not hold up calls to other chats. Only the bot process calls Telegram (the ingest process
never imports python-telegram-bot), so a process-wide budget is the token's budget.

Lanes: a call passes `rate_limit_args=Lane.…`, or takes the lane of the task it runs in (`lane_scope`,
which `serve()` sets for each background service); handler tasks have none, so they are `REPLY`.

A 429 is waited out: the chat (or, without a chat, everything) is blocked for `retry_after` and the same
call made again, up to `max_retries` times; only then does the caller see RetryAfter (the publisher keeps
the post queued, so nothing is lost even then).
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import contextvars
import itertools
import time
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from typing import Any

import structlog
from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.core.budget import SENDING_METHODS, ChatKey, Lane, SendBudget, chat_key

__all__ = ["BudgetLimiter", "current_lane", "lane_scope"]

log = structlog.get_logger(__name__)
_SENDING = frozenset(m.lower() for m in SENDING_METHODS)

current_lane: contextvars.ContextVar[Lane] = contextvars.ContextVar("newsbot_send_lane", default=Lane.REPLY)


@contextlib.contextmanager
def lane_scope(lane: Lane) -> Iterator[None]:
    """Sends made in this block (and in tasks it starts) take `lane` unless they say otherwise."""
    token = current_lane.set(lane)
    try:
        yield
    finally:
        current_lane.reset(token)


@dataclass(order=True, slots=True)
class _Waiter:
    lane: Lane
    seq: int
    chat: ChatKey | None = field(compare=False)
    granted: asyncio.Future[None] = field(compare=False)


class BudgetLimiter(BaseRateLimiter[Lane]):
    """PTB's BaseRateLimiter over a SendBudget; `throttled` counts the 429s waited out."""

    __slots__ = (
        "_changed",
        "_clock",
        "_dispatcher",
        "_sends",
        "_seq",
        "_waiting",
        "budget",
        "max_retries",
        "throttled",
    )

    def __init__(
        self,
        budget: SendBudget | None = None,
        *,
        max_retries: int = 5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.budget = budget or SendBudget()
        self.max_retries = max_retries
        self.throttled = 0
        self._clock = clock
        self._waiting: list[_Waiter] = []
        self._seq = itertools.count()
        self._sends = 0
        self._changed = asyncio.Event()
        self._dispatcher: asyncio.Task[None] | None = None

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        task, self._dispatcher = self._dispatcher, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    @property
    def queued(self) -> int:
        """Sends waiting for room now (for /metrics)."""
        return len(self._waiting)

    async def process_request(  # noqa: PLR0917  # PTB's BaseRateLimiter signature
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: Lane | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        if endpoint.lower() not in _SENDING:  # Telegram's method names are case-insensitive
            return await callback(*args, **kwargs)
        chat = chat_key(data.get("chat_id"))
        lane = rate_limit_args if isinstance(rate_limit_args, Lane) else current_lane.get()
        for attempt in itertools.count():
            await self.acquire(chat, lane)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                self.throttled += 1
                wait = _seconds(exc)
                if attempt >= self.max_retries:
                    log.warning("flood_wait_gave_up", method=endpoint, retry_after=wait, attempts=attempt + 1)
                    raise
                log.info("flood_wait", method=endpoint, retry_after=wait, lane=lane.name.lower())
                self.budget.block(chat, self._clock() + wait)
        raise AssertionError("unreachable")  # pragma: no cover

    async def acquire(self, chat: ChatKey | None, lane: Lane) -> None:
        """Return once one send of `lane` to `chat` is within the budget, and count it."""
        now = self._clock()
        if not self._waiting and self.budget.wait_time(chat, lane, now) <= 0:
            self._record(chat, lane, now)
            return
        waiter = _Waiter(lane, next(self._seq), chat, asyncio.get_running_loop().create_future())
        bisect.insort(self._waiting, waiter)
        self._kick()
        try:
            await waiter.granted
        except asyncio.CancelledError:
            if waiter in self._waiting:
                self._waiting.remove(waiter)
            raise

    def _record(self, chat: ChatKey | None, lane: Lane, now: float) -> None:
        self.budget.record(chat, lane, now)
        self._sends += 1
        if self._sends % 1000 == 0:  # a reader's window is forgotten once idle: memory follows the active
            self.budget.privates.forget_idle(now)
            self.budget.groups.forget_idle(now)

    def _kick(self) -> None:
        self._changed.set()
        if self._dispatcher is None or self._dispatcher.done():
            self._dispatcher = asyncio.create_task(self._dispatch(), name="send-budget")

    async def _dispatch(self) -> None:
        """Grant waiting sends in (lane, arrival) order as room appears; sleep until the next room."""
        while self._waiting:
            self._changed.clear()
            now = self._clock()
            soonest = float("inf")
            for waiter in list(self._waiting):
                if waiter.granted.done():  # cancelled meanwhile
                    self._waiting.remove(waiter)
                    continue
                wait = self.budget.wait_time(waiter.chat, waiter.lane, now)
                if wait <= 0:
                    self._record(waiter.chat, waiter.lane, now)
                    waiter.granted.set_result(None)
                    self._waiting.remove(waiter)
                else:
                    soonest = min(soonest, wait)
            if not self._waiting:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout=max(soonest, 0.001))


def _seconds(exc: RetryAfter) -> float:
    retry = exc._retry_after  # a timedelta; the public property warns (TELEGRAM.md)
    return max(retry.total_seconds(), 0.0) + 0.05
