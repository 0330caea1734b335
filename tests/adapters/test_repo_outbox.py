"""The outbox repository on a real SQLite file: claims, outcomes, in-flight recovery, pauses, edits, stats."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.adapters.db import Database
from bot.adapters.repo_articles import ArticleRepo
from bot.adapters.repo_feeds import FeedRepo
from bot.adapters.repo_outbox import OutboxRepo
from bot.core.models import Topic
from bot.core.policy import PostPolicy
from bot.core.topics import TopicMatcher
from tests.kits.outboxkit import CHANNEL, FEED_URL, article, send_head, states, store

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
OTHER = "-1009876543210"


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with Database(tmp_path / "newsbot.db") as database:
        yield database


async def test_claim_then_sent_oldest_first_with_latency(db: Database) -> None:
    await store(db, [article(1), article(2), article(3)])
    repo = OutboxRepo(db)
    queued_ms = await db.fetchall("SELECT queued_ms FROM outbox")
    assert all(r[0] and abs(r[0] / 1000 - datetime.now(UTC).timestamp()) < 5 for r in queued_ms)

    heads = await repo.due_heads(NOW)
    assert [h.url for h in heads] == ["https://news.example/story/1"]  # one head per chat, the oldest
    head = heads[0]
    assert (head.chat_id, head.headline, head.source, head.attempts) == (
        str(CHANNEL),
        "Headline number 1",
        "News Example",
        0,
    )
    assert await repo.claim(head.id)
    assert not await repo.claim(head.id)  # only a queued row can be claimed
    assert await repo.state_of(head.id) == "sending"
    assert [h.url for h in await repo.due_heads(NOW)] == ["https://news.example/story/2"]

    latency = await repo.mark_sent(
        head.id, message_id=77, text="sent text", headline=head.headline, dek=head.dek, now=NOW
    )
    assert latency is not None
    assert 0 <= latency < 5000
    item = await repo.get(head.id)
    assert item is not None
    assert (item.message_id, item.sent_text, item.sent_at, item.attempts) == (77, "sent text", NOW, 1)
    assert await states(db) == {"sent": 1, "queued": 2}


async def test_a_retrying_head_holds_back_its_chat_only(db: Database) -> None:
    await store(db, [article(1), article(2)])
    await store(db, [article(3), article(4)], channel=OTHER)
    repo = OutboxRepo(db)
    first, other = await repo.due_heads(NOW)
    assert (first.chat_id, other.chat_id) == (str(CHANNEL), OTHER)
    assert await repo.claim(first.id)
    await repo.requeue(first.id, not_before=NOW + timedelta(seconds=30), error="chat: 502", now=NOW)
    # story 2 must not overtake story 1 in the channel; the other chat goes on
    assert [h.url for h in await repo.due_heads(NOW)] == ["https://news.example/story/3"]
    later = await repo.due_heads(NOW + timedelta(seconds=30))
    assert [h.id for h in later] == [first.id, other.id]
    assert later[0].attempts == 1


async def test_in_flight_rows_become_unknown_or_are_requeued(db: Database) -> None:
    await store(db, [article(1), article(2), article(3)])
    repo = OutboxRepo(db)
    one = (await repo.due_heads(NOW))[0]
    assert await repo.claim(one.id)
    recovered = await repo.recover_in_flight(resend=False, now=NOW)
    assert [r.id for r in recovered] == [one.id]
    assert await repo.state_of(one.id) == "unknown"
    stats = await repo.stats()
    assert stats.count("unknown") == 1
    assert stats.unknown[0].url == "https://news.example/story/1"
    assert stats.last_error is not None
    assert "not re-sent" in stats.last_error

    two = (await repo.due_heads(NOW))[0]
    assert await repo.claim(two.id)
    assert [r.id for r in await repo.recover_in_flight(resend=True, now=NOW)] == [two.id]
    assert await repo.state_of(two.id) == "queued"
    assert (await repo.due_heads(NOW))[0].id == two.id
    assert await repo.recover_in_flight(resend=False, now=NOW) == []


async def test_final_states_only_from_sending(db: Database) -> None:
    await store(db, [article(1)])
    repo = OutboxRepo(db)
    head = (await repo.due_heads(NOW))[0]
    await repo.finish(head.id, "failed", reason="nope", now=NOW)
    assert await repo.state_of(head.id) == "queued"  # not claimed: untouched
    assert await repo.claim(head.id)
    await repo.finish(head.id, "failed", reason="Chat not found", now=NOW)
    assert await repo.state_of(head.id) == "failed"
    with pytest.raises(ValueError, match="not a final state"):
        await repo.finish(head.id, "sent", reason="x", now=NOW)
    stats = await repo.stats()
    assert (stats.last_error, stats.last_error_at) == ("Chat not found", NOW)


async def test_channel_pause_notify_once_and_resume(db: Database) -> None:
    await store(db, [article(1)])
    await store(db, [article(2)], channel=OTHER)
    repo = OutboxRepo(db)
    await repo.pause_channel(str(CHANNEL), "Forbidden: bot was kicked from the channel chat", now=NOW)
    assert [h.chat_id for h in await repo.due_heads(NOW)] == [OTHER]
    assert await repo.is_paused(str(CHANNEL))
    assert not await repo.is_paused(OTHER)
    pending = await repo.unnotified_pauses()
    assert [(p.chat_id, p.since) for p in pending] == [(str(CHANNEL), NOW)]
    await repo.mark_notified(str(CHANNEL))
    assert await repo.unnotified_pauses() == []
    # a second 403 while still paused is not a new pause: admins are not told again
    await repo.pause_channel(str(CHANNEL), "Forbidden: again", now=NOW + timedelta(minutes=5))
    assert await repo.unnotified_pauses() == []
    assert (await repo.paused_channels())[0].since == NOW

    await repo.pause_all("paused by an admin", now=NOW)
    assert await repo.global_pause() is not None
    assert await repo.is_paused(OTHER)
    assert (await repo.stats()).paused_all == "paused by an admin"
    assert await repo.resume_all() == ["*", str(CHANNEL)]
    assert await repo.global_pause() is None
    assert await repo.paused_channels() == []
    assert len(await repo.due_heads(NOW)) == 2
    # paused again later: a new pause, told again
    await repo.pause_channel(str(CHANNEL), "Forbidden: later", now=NOW)
    assert len(await repo.unnotified_pauses()) == 1


async def test_corrections_are_flagged_and_cleared_only_when_current(db: Database) -> None:
    await store(db, [article(1)])
    repo = OutboxRepo(db)
    row_id = await send_head(repo, 10, NOW)
    assert await repo.due_edits(NOW) == []
    await store(db, [article(1, headline="Corrected headline")], now=NOW)
    edits = await repo.due_edits(NOW)
    assert [(e.id, e.headline, e.message_id) for e in edits] == [(row_id, "Corrected headline", 10)]
    await repo.edit_later(row_id, not_before=NOW + timedelta(seconds=30), error="502", now=NOW)
    assert await repo.due_edits(NOW) == []
    assert len(await repo.due_edits(NOW + timedelta(seconds=30))) == 1
    # the article changed again while the edit was in flight: the flag stays
    await store(db, [article(1, headline="Corrected twice")], now=NOW)
    await repo.edit_done(row_id, text="edited", headline="Corrected headline", dek=edits[0].dek)
    again = await repo.due_edits(NOW + timedelta(seconds=60))
    assert [e.headline for e in again] == ["Corrected twice"]
    await repo.edit_done(row_id, text="edited twice", headline="Corrected twice", dek=again[0].dek)
    assert await repo.due_edits(NOW + timedelta(seconds=60)) == []
    assert (await repo.get(row_id)).sent_text == "edited twice"  # type: ignore[union-attr]


async def test_article_changed_while_sending_needs_an_edit(db: Database) -> None:
    await store(db, [article(1)])
    repo = OutboxRepo(db)
    head = (await repo.due_heads(NOW))[0]
    assert await repo.claim(head.id)
    await store(db, [article(1, dek="A corrected dek.")], now=NOW)  # not flagged: the row is not sent yet
    await repo.mark_sent(head.id, message_id=5, text="old", headline=head.headline, dek=head.dek, now=NOW)
    assert [e.dek for e in await repo.due_edits(NOW)] == ["A corrected dek."]


async def test_migrated_chat_moves_queued_posts(db: Database) -> None:
    await store(db, [article(1), article(2)], channel="-4001")
    await store(db, [article(3)], channel="-1004001")
    await store(db, [article(2)], channel="-1004001")  # already stored: not queued again
    repo = OutboxRepo(db)
    await repo.move_chat("-4001", "-1004001", now=NOW)
    heads = await repo.due_heads(NOW)
    assert {h.chat_id for h in heads} == {"-1004001"}
    rows = await db.fetchall("SELECT chat_id, state FROM outbox ORDER BY id")
    assert [tuple(r) for r in rows] == [
        ("-1004001", "queued"),
        ("-1004001", "queued"),
        ("-1004001", "queued"),
    ]


async def test_topic_channel_rows_route_to_their_chat(db: Database) -> None:
    await db.execute_write(
        "INSERT INTO topics (name, keywords, channel_id, created_at) VALUES ('space', '[\"rocket\"]', ?, 0)",
        (OTHER,),
    )

    feed, _ = await FeedRepo(db).ensure(FEED_URL, NOW)
    matcher = TopicMatcher(Topic("space", keywords=("rocket",), channel_id=OTHER), 1)
    await ArticleRepo(db).store(
        feed.id,
        [article(1, headline="Rocket launch"), article(2)],
        now=datetime.now(UTC),
        first_sync=False,
        policy=PostPolicy(),
        channel_id=str(CHANNEL),
        matchers=[matcher],
    )
    heads = await OutboxRepo(db).due_heads(NOW)
    assert sorted((h.chat_id, h.headline) for h in heads) == [
        (str(CHANNEL), "Rocket launch"),
        (OTHER, "Rocket launch"),
    ]


async def test_stats_latency_percentiles_over_recent_posts(db: Database) -> None:
    await store(db, [article(i) for i in range(1, 11)])
    repo = OutboxRepo(db)
    for i in range(1, 11):
        await send_head(repo, i, NOW)
    await db.execute_write("UPDATE outbox SET latency_ms = id * 100")
    stats = await repo.stats()
    assert (stats.latency_samples, stats.latency_p50_ms, stats.latency_p99_ms) == (10, 500, 1000)
    assert (await repo.stats(sample=4)).latency_samples == 4
    assert stats.count("sent") == 10
