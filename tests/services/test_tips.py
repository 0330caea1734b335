"""The tip service over a real database with the clock injected: the hourly limit (told once, then
silence, and room again an hour later), tips off, where copies go, answers only from admins to known tip
messages, and blocking (admins never)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.db import Database
from bot.adapters.repo_audit import AuditRepo
from bot.adapters.repo_tips import TipRepo
from bot.core.delivery import ChatForbidden, DeliveryError
from bot.services.audit import Actor, Audit
from bot.services.tips import TipConfig, TipService, Tipster

ADA = 4242
RITA = Tipster(501, "Rita", "rita")
START = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


@dataclass
class Sender:
    sent: list[tuple[str, str, str | None]] = field(default_factory=list)
    refuse: dict[str, DeliveryError] = field(default_factory=dict)

    async def send(self, chat_id: str, text: str, buttons: Any = None, *, reply_to: int | None = None) -> int:
        return self._record(chat_id, text, None)

    async def send_photo(self, chat_id: str, photo: str, caption: str) -> int:
        return self._record(chat_id, caption, photo)

    def _record(self, chat_id: str, text: str, photo: str | None) -> int:
        if chat_id in self.refuse:
            raise self.refuse[chat_id]
        self.sent.append((chat_id, text, photo))
        return 100 + len(self.sent)


@dataclass
class Clock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Desk:
    service: TipService
    sender: Sender
    clock: Clock
    db: Database


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[Desk]:
    db = await Database(tmp_path / "tips.db").open(migrate=True)
    sender, clock = Sender(), Clock()
    config = TipConfig(("-100", str(ADA)), frozenset({ADA}), per_hour=5)
    service = TipService(TipRepo(db), lambda bot: sender, config, Audit(AuditRepo(db)), clock=clock)
    await service.load()
    try:
        yield Desk(service, sender, clock, db)
    finally:
        await db.close()


async def test_five_tips_an_hour_then_told_once_then_silence_then_room_again(desk: Desk) -> None:
    answers = []
    for n in range(7):
        desk.clock.now = START + timedelta(minutes=n)
        answer = await desk.service.submit(None, RITA, f"tip {n}")
        answers.append(None if answer is None else str(answer))  # the English (a Msg, translated when sent)
    assert answers[:5] == ["Thanks — your tip went to the newsroom."] * 5
    assert answers[5] == "You've sent 5 tips this hour; please wait a while before sending more."
    assert answers[6] is None
    assert len(desk.sender.sent) == 10  # five tips, two copies each (the group and the admin)
    desk.clock.now = START + timedelta(minutes=60, seconds=30)  # the first tip is over an hour old
    assert str(await desk.service.submit(None, RITA, "tip 7")).startswith("Thanks")
    assert await desk.service.submit(None, RITA, "tip 8") is None  # still told this hour: silence
    desk.clock.now = START + timedelta(minutes=125)
    assert str(await desk.service.submit(None, RITA, "tip 9")).startswith("Thanks")


async def test_tips_off_usage_and_undeliverable(desk: Desk) -> None:
    assert str(await desk.service.submit(None, RITA, "")).startswith("Usage: /tip")
    desk.sender.refuse = {"-100": DeliveryError("-100", "gone"), str(ADA): ChatForbidden(str(ADA), "no")}
    assert str(await desk.service.submit(None, RITA, "lost")).startswith("Sorry, your tip could not reach")
    off = TipService(
        TipRepo(desk.db), lambda bot: desk.sender, TipConfig(("-100",), frozenset(), 0), desk.service.audit
    )
    assert str(await off.submit(None, RITA, "anything")) == "Tips are off."


async def test_answers_come_only_from_admins_to_tip_messages(desk: Desk) -> None:
    await desk.service.submit(None, RITA, "the depot")
    assert [chat for chat, _, _ in desk.sender.sent] == ["-100", str(ADA)]
    ada = Actor.user(ADA, "Ada")
    assert await desk.service.answer(None, "-100", 101, "hi", Actor.user(77, "Mallory")) is None
    assert await desk.service.answer(None, "-100", 999, "hi", ada) is None  # not a tip message
    assert await desk.service.answer(None, "-100", 101, "Thanks <3", ada) == "Sent to the reader."
    assert desk.sender.sent[-1] == ("501", "📰 <b>The newsroom replies:</b>\n\nThanks &lt;3", None)
    assert await desk.service.answer(None, str(ADA), 102, "", ada, photo="PHOTO") == "Sent to the reader."
    assert desk.sender.sent[-1] == ("501", "📰 <b>The newsroom replies:</b>", "PHOTO")
    desk.sender.refuse["501"] = ChatForbidden("501", "bot was blocked by the user")
    assert await desk.service.answer(None, "-100", 101, "hello?", ada) == "The reader has blocked the bot."
    entries = await desk.service.audit.latest(5)
    assert [(e.actor, e.action, e.detail) for e in entries] == [
        ("Ada (4242)", "tip answered", "tip 1 to reader 501")
    ] * 2


async def test_blocking_is_remembered_and_never_hits_admins(desk: Desk) -> None:
    ada = Actor.user(ADA, "Ada")
    assert await desk.service.block(ada, ADA) == "Admins can't be blocked."
    assert await desk.service.block(ada, 501) == "Reader 501 is blocked from tips and commands."
    assert await desk.service.block(ada, 501) == "501 was already blocked."
    assert desk.service.is_blocked(501)
    assert not desk.service.is_blocked(ADA)
    again = TipService(TipRepo(desk.db), lambda bot: desk.sender, desk.service.config, desk.service.audit)
    await again.load()
    assert again.is_blocked(501)  # kept across restarts
    assert await desk.service.unblock(ada, 501) == "Reader 501 is unblocked."
    assert await desk.service.unblock(ada, 501) == "501 was not blocked."
    assert not desk.service.is_blocked(501)
    actions = [e.action for e in await desk.service.audit.latest(10)]
    assert actions == ["reader unblocked", "reader blocked"]
