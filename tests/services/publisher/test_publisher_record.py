"""A post Telegram accepted but the database would not record: retried, never sent twice."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from structlog.testing import capture_logs

from bot.core.errors import StorageError
from bot.sandbox.botapi import LocalBotAPI
from bot.settings import Settings
from tests.kits.outboxkit import (
    CHANNEL,
    article,
    assert_each_once,
    running_publisher,
    states,
    store,
    story_order,
    wait_states,
)


def failing_mark_sent(real: Any, failures: int) -> tuple[Any, list[int]]:
    """`real` that raises StorageError on its first `failures` calls; also returns the list of ids tried."""
    tried: list[int] = []

    async def mark_sent(outbox_id: int, **kwargs: Any) -> int | None:
        tried.append(outbox_id)
        if len(tried) <= failures:
            raise StorageError("database is locked")
        result: int | None = await real(outbox_id, **kwargs)
        return result

    return mark_sent, tried


async def test_mark_sent_failing_once_is_retried_and_the_post_sent_once(
    api: LocalBotAPI, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running_publisher(settings) as run:
        patched, tried = failing_mark_sent(run.outbox.mark_sent, failures=1)
        monkeypatch.setattr(run.outbox, "mark_sent", patched)
        await store(run.db, [article(1), article(2)])
        await wait_states(run.db, {"sent": 2})
        await asyncio.sleep(0.3)  # a few polls: nothing resent
        row = await run.db.fetchone("SELECT message_id FROM outbox ORDER BY id LIMIT 1")
    assert tried[:2] == [tried[0], tried[0]]  # the failed record was retried for the same post
    assert row is not None
    assert row[0] == api.channel_posts(CHANNEL)[0].message_id
    assert len(api.calls("sendMessage")) == 2
    assert story_order(api) == [1, 2]
    assert_each_once(api, range(1, 3))


async def test_mark_sent_failing_for_good_logs_and_never_resends(
    api: LocalBotAPI, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running_publisher(settings) as run:
        run.publisher.record_retry_delays = (0.01, 0.01, 0.01)
        real = run.outbox.mark_sent
        patched, tried = failing_mark_sent(real, failures=4)  # the first try and all three retries
        with capture_logs() as logs:
            monkeypatch.setattr(run.outbox, "mark_sent", patched)
            await store(run.db, [article(1), article(2)])
            await wait_states(run.db, {"sending": 1, "sent": 1})
            await asyncio.sleep(0.3)  # a few polls: the unrecorded post is not claimed again
            assert await states(run.db) == {"sending": 1, "sent": 1}
        assert len(api.calls("sendMessage")) == 2
        unrecorded = [e for e in logs if e["event"] == "post_sent_unrecorded"]
        assert len(unrecorded) == 1
        assert unrecorded[0]["log_level"] == "error"
        first_id = tried[0]
        assert tried[:4] == [first_id] * 4
        assert unrecorded[0]["outbox_id"] == first_id
        assert unrecorded[0]["message_id"] == api.channel_posts(CHANNEL)[0].message_id

        # a loop restart in the same process records it rather than resending it or calling it unknown
        assert await run.publisher.recover() == []
        assert await states(run.db) == {"sent": 2}
    assert_each_once(api, range(1, 3))
