"""The one send budget: lanes, chat and overall windows, 429s waited out, against the strict stand-in."""

from __future__ import annotations

import asyncio

import pytest
from telegram.ext import ExtBot

from bot.adapters.send_budget import BudgetLimiter, lane_scope
from bot.core.budget import BudgetLimits, Lane, SendBudget, chat_key
from bot.sandbox.botapi import LocalBotAPI

TOKEN = "123456:TEST-budget-token-aaaaaaaaaaaaaaaaa"
CHANNEL = -1001000000555


def test_chat_keys_tell_readers_from_channels() -> None:
    assert chat_key(42) == ("private", 42)
    assert chat_key("42") == ("private", 42)
    assert chat_key(-1001) == ("group", -1001)
    assert chat_key("@News") == chat_key("@news") == ("group", "@news")
    assert chat_key(None) is None


def test_background_lanes_leave_room_for_replies() -> None:
    budget = SendBudget(BudgetLimits(overall=(5, 1.0), background_per_second=3, margin=0.0))
    for i in range(3):
        assert budget.wait_time(chat_key(100 + i), Lane.BULK, 0.0) == 0
        budget.record(chat_key(100 + i), Lane.BULK, 0.0)
    assert budget.wait_time(chat_key(200), Lane.BULK, 0.1) == pytest.approx(0.9)
    assert budget.wait_time(chat_key(200), Lane.POST, 0.1) == pytest.approx(0.9)
    assert budget.wait_time(chat_key(200), Lane.REPLY, 0.1) == 0  # the two kept for replies
    budget.record(chat_key(200), Lane.REPLY, 0.1)
    budget.record(chat_key(201), Lane.REPLY, 0.1)
    assert budget.wait_time(chat_key(202), Lane.REPLY, 0.2) == pytest.approx(0.8)  # all 5 used


def test_a_chat_at_its_limit_waits_alone() -> None:
    budget = SendBudget(BudgetLimits(private=(1, 1.0), group=(2, 60.0), margin=0.0))
    budget.record(chat_key(7), Lane.REPLY, 0.0)
    assert budget.wait_time(chat_key(7), Lane.REPLY, 0.5) == pytest.approx(0.5)
    assert budget.wait_time(chat_key(8), Lane.REPLY, 0.5) == 0
    budget.record(chat_key(CHANNEL), Lane.POST, 0.0)
    budget.record(chat_key(CHANNEL), Lane.POST, 1.0)
    assert budget.wait_time(chat_key(CHANNEL), Lane.POST, 2.0) == pytest.approx(58.0)
    budget.block(chat_key(8), 5.0)
    assert budget.wait_time(chat_key(8), Lane.REPLY, 2.0) == pytest.approx(3.0)


async def test_waiting_sends_are_granted_replies_first_then_in_arrival_order() -> None:
    limiter = BudgetLimiter(SendBudget(BudgetLimits(overall=(4, 0.3), background_per_second=4)))
    order: list[str] = []

    async def send(name: str, chat: int, lane: Lane) -> None:
        await limiter.acquire(chat_key(chat), lane)
        order.append(name)

    tasks = [asyncio.create_task(send(f"dm{i}", 100 + i, Lane.BULK)) for i in range(8)]
    await asyncio.sleep(0.05)  # the first four went at once; four wait for the window
    tasks.append(asyncio.create_task(send("post", CHANNEL, Lane.POST)))
    tasks.append(asyncio.create_task(send("reply", 999, Lane.REPLY)))
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=5)
    assert order[:4] == ["dm0", "dm1", "dm2", "dm3"]
    assert order[4:6] == ["reply", "post"]
    assert order[6:] == ["dm4", "dm5", "dm6", "dm7"]
    assert limiter.queued == 0
    await limiter.shutdown()


async def test_a_cancelled_wait_leaves_the_queue() -> None:
    limiter = BudgetLimiter(SendBudget(BudgetLimits(private=(1, 10.0))))
    await limiter.acquire(chat_key(5), Lane.REPLY)
    waiting = asyncio.create_task(limiter.acquire(chat_key(5), Lane.REPLY))
    await asyncio.sleep(0.02)
    assert limiter.queued == 1
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert limiter.queued == 0
    await limiter.acquire(chat_key(6), Lane.REPLY)  # others are not held up
    await limiter.shutdown()


async def _bot(api: LocalBotAPI, limiter: BudgetLimiter) -> ExtBot[None]:
    bot: ExtBot[None] = ExtBot(TOKEN, base_url=f"{api.api_url}/bot", rate_limiter=limiter)
    await bot.initialize()
    return bot


async def test_a_mixed_burst_from_every_lane_gets_no_429() -> None:
    """Channel posts, DMs to readers (several each) and replies, all at once, against the strict limits
    (the channel's minute scaled to 3 s on both sides): everything is delivered and Telegram never
    answers 429."""
    limits = BudgetLimits(group=(20, 3.0))
    async with LocalBotAPI(
        TOKEN, channel_limit=(20, 3.0), private_limit=(3, 1.0), global_limit=(30, 1.0)
    ) as api:
        api.add_chat(CHANNEL, username="budgetnews", title="Budget News")
        readers = list(range(2001, 2041))
        for reader in readers:
            api.add_user(reader)
        limiter = BudgetLimiter(SendBudget(limits))
        bot = await _bot(api, limiter)
        try:

            async def posts() -> None:
                with lane_scope(Lane.POST):
                    for i in range(30):
                        await bot.send_message(CHANNEL, f"story {i}")

            async def dms() -> None:
                with lane_scope(Lane.BULK):
                    await asyncio.gather(*(bot.send_message(r, f"dm {k}") for k in range(3) for r in readers))

            async def replies() -> list[float]:
                loop = asyncio.get_running_loop()
                waits = []
                for reader in readers[:10]:
                    started = loop.time()
                    await bot.send_message(reader, "reply")
                    waits.append(loop.time() - started)
                    await asyncio.sleep(0.05)
                return waits

            _, _, waits = await asyncio.wait_for(asyncio.gather(posts(), dms(), replies()), timeout=60)
        finally:
            await bot.shutdown()
            await limiter.shutdown()
        assert api.count_429 == 0
        assert [m.text for m in api.chat_messages(CHANNEL)] == [f"story {i}" for i in range(30)]
        for reader in readers:
            assert len(api.chat_messages(reader)) == (4 if reader in readers[:10] else 3)
        assert max(waits) < 1.0  # replies go ahead of the queued DMs (no reply waits for the fan-out)


async def test_a_429_is_waited_out_and_the_message_sent() -> None:
    async with LocalBotAPI(TOKEN) as api:
        api.add_user(3001)
        api.add_user(3002)
        limiter = BudgetLimiter()
        bot = await _bot(api, limiter)
        try:
            api.fail_next("sendMessage", status=429, retry_after=1, chat_id=3001)
            loop = asyncio.get_running_loop()
            started = loop.time()
            first = asyncio.create_task(bot.send_message(3001, "first"))
            await asyncio.sleep(0.1)
            await bot.send_message(3002, "elsewhere")  # another chat is not held up by the wait
            assert loop.time() - started < 0.9
            await first
            assert loop.time() - started >= 1.0
        finally:
            await bot.shutdown()
            await limiter.shutdown()
        assert [m.text for m in api.chat_messages(3001)] == ["first"]
        assert api.count_429 == 1
        assert limiter.throttled == 1
