"""Pins over a real SQLite `pins` table with the clock injected: the next breaking pin lifts the previous,
PIN_HOURS lapse them, Telegram's refusals are logged once and never raised, and every call is paced."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import structlog

from bot.adapters.db import Database
from bot.adapters.repo_pins import PinRepo
from bot.core.delivery import ChatForbidden, DeliveryError, FloodWait, Rejected
from bot.core.pacing import Pacer
from bot.services.pins import Pins

NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
CHAT = "-1001"


class Clock:
    def __init__(self) -> None:
        self.now = NOW
        self.mono = 1000.0

    def __call__(self) -> datetime:
        return self.now


class Channel:
    """What Telegram would do with our pin calls (a seam we own: the PinSender Protocol)."""

    def __init__(self) -> None:
        self.pinned: list[int] = []
        self.calls: list[tuple[str, int]] = []
        self.fail: dict[str, DeliveryError] = {}

    async def pin(self, chat_id: str, message_id: int) -> None:
        self.calls.append(("pin", message_id))
        if "pin" in self.fail:
            raise self.fail["pin"]
        self.pinned.append(message_id)

    async def unpin(self, chat_id: str, message_id: int) -> None:
        self.calls.append(("unpin", message_id))
        if "unpin" in self.fail:
            raise self.fail["unpin"]
        if message_id not in self.pinned:
            raise Rejected(chat_id, "Message to unpin not found")
        self.pinned.remove(message_id)


@pytest.fixture
async def repo(tmp_path: Path) -> AsyncIterator[PinRepo]:
    async with Database(tmp_path / "pins.db") as db:
        yield PinRepo(db)


def pins_for(repo: PinRepo, clock: Clock, pacer: Pacer | None = None) -> Pins:
    return Pins(repo, pin_for=timedelta(hours=6), pacer=pacer, clock=clock, monotonic=lambda: clock.mono)


async def test_the_next_breaking_pin_lifts_the_previous(repo: PinRepo) -> None:
    clock, channel = Clock(), Channel()
    pins = pins_for(repo, clock)
    assert await pins.pin(channel, CHAT, 10) is None
    clock.now += timedelta(minutes=5)
    assert await pins.pin(channel, CHAT, 11) is None
    assert channel.pinned == [11]
    assert channel.calls == [("pin", 10), ("pin", 11), ("unpin", 10)]  # by message id, never "unpin all"
    assert [(c, m) for c, m, _ in await repo.live()] == [(CHAT, 11)]
    assert await pins.pin(channel, "-1002", 12) is None  # another chat's pin lifts nothing here
    assert channel.pinned == [11, 12]


async def test_pins_lapse_after_pin_hours(repo: PinRepo) -> None:
    clock, channel = Clock(), Channel()
    pins = pins_for(repo, clock)
    await pins.pin(channel, CHAT, 10)
    clock.now += timedelta(hours=5, minutes=59)
    await pins.expire(channel)
    assert channel.pinned == [10]
    clock.now += timedelta(minutes=2)
    await pins.expire(channel)
    assert channel.pinned == []
    assert await repo.live() == []
    await pins.expire(channel)  # nothing left: no second unpin
    assert channel.calls.count(("unpin", 10)) == 1


async def test_a_pin_lifted_by_hand_is_forgotten_not_retried(repo: PinRepo) -> None:
    clock, channel = Clock(), Channel()
    pins = pins_for(repo, clock)
    await pins.pin(channel, CHAT, 10)
    channel.pinned.clear()  # an admin unpinned it in Telegram
    clock.now += timedelta(hours=7)
    with structlog.testing.capture_logs() as logs:
        await pins.expire(channel)
        clock.now += timedelta(hours=1)
        await pins.expire(channel)
    assert [e["event"] for e in logs] == ["unpin_failed"]
    assert await repo.live() == []


async def test_no_right_to_pin_is_logged_once_and_never_raised(repo: PinRepo) -> None:
    clock, channel = Clock(), Channel()
    channel.fail["pin"] = ChatForbidden(CHAT, "Not enough rights to manage pinned messages in the chat")
    pins = pins_for(repo, clock)
    with structlog.testing.capture_logs() as logs:
        for message_id in (10, 11, 12):
            reason = await pins.pin(channel, CHAT, message_id)
            assert reason == "Not enough rights to manage pinned messages in the chat"
    assert [(e["event"], e["log_level"]) for e in logs] == [
        ("pin_failed", "warning"),
        ("pin_failed", "debug"),
        ("pin_failed", "debug"),
    ]
    assert await repo.live() == []
    del channel.fail["pin"]  # the right was granted: pins work again, and a new refusal is told again
    assert await pins.pin(channel, CHAT, 13) is None
    channel.fail["pin"] = Rejected(CHAT, "Message to pin not found")
    with structlog.testing.capture_logs() as logs:
        await pins.pin(channel, CHAT, 14)
    assert [(e["event"], e["log_level"]) for e in logs] == [("pin_failed", "warning")]


async def test_unpinning_is_paced_and_a_flood_wait_is_retried(repo: PinRepo) -> None:
    clock, channel = Clock(), Channel()
    pacer = Pacer.telegram(posts_per_window=2, window=60.0)
    pins = pins_for(repo, clock, pacer)
    await pins.pin(channel, CHAT, 10)  # one call counted
    assert pacer.wait_time(CHAT, clock.mono) == 0
    clock.now += timedelta(hours=7)
    pacer.record(CHAT, clock.mono)  # a post: the chat's budget of 2 a minute is spent
    await pins.expire(channel)
    assert channel.pinned == [10]  # waits for the budget rather than overrun it
    clock.mono += 61
    channel.fail["unpin"] = FloodWait(CHAT, 5)
    await pins.expire(channel)
    assert [(c, m) for c, m, _ in await repo.live()] == [(CHAT, 10)]  # kept: tried again later
    assert pacer.wait_time(CHAT, clock.mono) >= 4.9  # the flood wait holds the chat
    del channel.fail["unpin"]
    clock.mono += 61
    await pins.expire(channel)  # the retry is not due yet (30 s)
    assert channel.pinned == [10]
    clock.now += timedelta(seconds=31)
    await pins.expire(channel)
    assert channel.pinned == []
    assert await repo.live() == []
