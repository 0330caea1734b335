"""Groups in storage: a followed topic's new articles queued for the group at ingest, ended groups and their
queue, a group moved to its supergroup id, and a 403 that races the update that ended a group."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.adapters.db import Database
from bot.adapters.repo_groups import GroupRepo
from bot.adapters.repo_outbox import OutboxRepo
from bot.adapters.repo_topics import TopicRepo
from bot.core.models import Topic
from tests.kits.outboxkit import CHANNEL, article, store

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
GROUP, OTHER_GROUP, SUPERGROUP = -4100, -4200, -1004100


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with Database(tmp_path / "newsbot.db") as database:
        yield database


async def chats(db: Database) -> list[tuple[str, str]]:
    rows = await db.fetchall("SELECT chat_id, state FROM outbox ORDER BY id")
    return [(str(r[0]), str(r[1])) for r in rows]


async def test_followed_topics_queue_for_their_groups_only(db: Database) -> None:
    topics, groups = TopicRepo(db), GroupRepo(db)
    climate, _ = await topics.save(Topic("climate", keywords=("flood",)), NOW)
    sport, _ = await topics.save(Topic("sport", keywords=("match",)), NOW)
    assert await groups.subscribe(GROUP, "Readers", climate.id, 7, NOW)
    assert not await groups.subscribe(GROUP, "Readers", climate.id, 7, NOW)  # already
    assert await groups.subscribe(OTHER_GROUP, "Fans", sport.id, 8, NOW)
    assert await groups.counts() == (2, 2)
    matchers = await topics.matchers()
    await store(
        db, [article(1, headline="Flood warning"), article(2, headline="Match report")], matchers=matchers
    )
    assert await chats(db) == [
        (str(CHANNEL), "queued"),
        (str(GROUP), "queued"),
        (str(CHANNEL), "queued"),
        (str(OTHER_GROUP), "queued"),
    ]
    assert [t.name for t in await groups.topics(GROUP)] == ["climate"]
    assert await groups.unsubscribe(OTHER_GROUP, sport.id)
    assert not await groups.unsubscribe(OTHER_GROUP, sport.id)


async def test_an_ended_group_loses_its_topics_and_queue_and_a_racing_403_pauses_nothing(
    db: Database,
) -> None:
    topics, groups, outbox = TopicRepo(db), GroupRepo(db), OutboxRepo(db)
    climate, _ = await topics.save(Topic("climate", keywords=("flood",)), NOW)
    await groups.subscribe(GROUP, "Readers", climate.id, 7, NOW)
    await store(
        db,
        [article(1, headline="Flood one"), article(2, headline="Flood two")],
        matchers=await topics.matchers(),
    )
    head = next(h for h in await outbox.due_heads(NOW) if h.chat_id == str(GROUP))
    assert await outbox.claim(head.id)  # a send to the group is in flight…
    assert await groups.left(GROUP, "removed (kicked)", NOW)  # …when my_chat_member says it was removed
    assert await groups.counts() == (0, 0)
    assert [s for c, s in await chats(db) if c == str(GROUP)] == ["skipped", "skipped"]
    assert not await outbox.pause_channel(str(GROUP), "Forbidden: bot was kicked", now=NOW)  # the send's 403
    assert await outbox.paused_channels() == []
    assert await outbox.pause_channel(str(CHANNEL), "Forbidden: bot was kicked", now=NOW)  # a channel pauses
    await store(db, [article(3, headline="Flood three")], matchers=await topics.matchers())
    assert [s for c, s in await chats(db) if c == str(GROUP)] == ["skipped", "skipped"]  # nothing new queued


async def test_a_group_moved_to_its_supergroup_keeps_topics_and_queue(db: Database) -> None:
    topics, groups, outbox = TopicRepo(db), GroupRepo(db), OutboxRepo(db)
    climate, _ = await topics.save(Topic("climate", keywords=("flood",)), NOW)
    await groups.subscribe(GROUP, "Readers", climate.id, 7, NOW)
    await store(db, [article(1, headline="Flood one")], matchers=await topics.matchers())
    await outbox.move_chat(str(GROUP), str(SUPERGROUP), now=NOW)  # the 400 on a send said where it went
    assert [t.name for t in await groups.topics(SUPERGROUP)] == ["climate"]
    assert await groups.topics(GROUP) == []
    assert (str(SUPERGROUP), "queued") in await chats(db)
    await outbox.move_chat(str(SUPERGROUP), "-1009999", now=NOW)  # and once more, by the service message
    assert await groups.get(SUPERGROUP) is None
    moved = await groups.get(-1009999)
    assert moved is not None
    assert (moved.title, moved.state) == ("Readers", "member")
