"""ReviewRepo and ArticleRepo.store on a real SQLite file: which articles wait for an editor (REVIEW, the
/review switch, a feed's own), subscribers' messages held until the decision, the first decision wins
(two connections racing included), edits, expiry, and the preview and prompt messages."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.adapters.db import Database
from bot.adapters.repo_articles import ArticleRepo, StoreResult
from bot.adapters.repo_feeds import FeedRepo
from bot.adapters.repo_outbox import OutboxRepo
from bot.adapters.repo_review import ReviewRepo
from bot.adapters.repo_topics import TopicRepo, matcher_for
from bot.core.models import Article, Topic
from bot.core.policy import PostPolicy
from tests.kits.outboxkit import CHANNEL, FEED_URL, article

NOW = datetime.now(UTC).replace(microsecond=0)
ADA, BEN, READER = 4242, 4343, 501


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with Database(tmp_path / "bot.db") as opened:
        yield opened


async def put(
    db: Database, articles: list[Article], *, review: bool = True, topics: bool = False, at: datetime = NOW
) -> StoreResult:
    feed, _ = await FeedRepo(db).ensure(FEED_URL, at)
    matchers = [matcher_for(t) for t in await TopicRepo(db).all()] if topics else []
    return await ArticleRepo(db).store(
        feed.id,
        articles,
        now=at,
        first_sync=False,
        policy=PostPolicy(review=review),
        channel_id=str(CHANNEL),
        matchers=matchers,
    )


async def one(db: Database, sql: str) -> list[tuple[object, ...]]:
    return [tuple(r) for r in await db.fetchall(sql)]


async def test_with_review_new_posts_wait_with_a_pending_review(db: Database) -> None:
    result = await put(db, [article(1), article(2)])
    assert (result.new, result.queued, result.reviewed) == (2, 2, 2)
    assert await one(db, "SELECT review, state FROM outbox") == [(1, "queued"), (1, "queued")]
    assert await one(db, "SELECT state, announced FROM reviews") == [("pending", 0), ("pending", 0)]
    assert await OutboxRepo(db).due_heads(NOW + timedelta(hours=1)) == []  # nothing goes out by itself
    assert await ReviewRepo(db).unannounced() == [r[0] for r in await one(db, "SELECT id FROM articles")]


async def test_without_review_nothing_waits(db: Database) -> None:
    result = await put(db, [article(1)], review=False)
    assert (result.queued, result.reviewed) == (1, 0)
    assert await one(db, "SELECT review FROM outbox") == [(0,)]
    assert await one(db, "SELECT COUNT(*) FROM reviews") == [(0,)]


async def test_switch_order_feed_then_review_command_then_setting(db: Database) -> None:
    repo = ReviewRepo(db)
    assert await repo.bot_wide() is None
    await repo.set_bot_wide(False)  # /review off beats REVIEW=on
    assert (await put(db, [article(1)], review=True)).reviewed == 0
    await repo.set_bot_wide(True)  # /review on beats REVIEW=off
    assert await repo.bot_wide() is True
    assert (await put(db, [article(2)], review=False)).reviewed == 1
    feed_id = (await one(db, "SELECT id FROM feeds"))[0][0]
    assert isinstance(feed_id, int)
    assert await repo.set_feed(feed_id, False)  # the feed's own switch beats both
    assert (await put(db, [article(3)], review=True)).reviewed == 0
    assert await repo.set_feed(feed_id, True)
    await repo.set_bot_wide(False)
    assert (await put(db, [article(4)], review=False)).reviewed == 1
    assert await repo.set_feed(feed_id, None)  # default again: /review off applies
    assert (await put(db, [article(5)], review=True)).reviewed == 0
    assert not await repo.set_feed(feed_id + 99, True)  # no such feed


async def subscribed(db: Database) -> None:
    topics = TopicRepo(db)
    stored, _ = await topics.save(Topic("budget", "Budget news", ("budget",)), NOW)
    await topics.subscribe(READER, stored.id, NOW)


async def test_subscribers_hear_of_a_reviewed_story_only_once_it_is_posted(db: Database) -> None:
    await subscribed(db)
    result = await put(
        db, [article(1, headline="Budget passes"), article(2, headline="Budget fails")], topics=True
    )
    assert result.dms_queued == 0
    assert await one(db, "SELECT COUNT(*) FROM dm_outbox") == [(0,)]
    repo = ReviewRepo(db)
    first, second = (r[0] for r in await one(db, "SELECT id FROM articles ORDER BY id"))
    assert isinstance(first, int)
    assert isinstance(second, int)
    assert await repo.decide(first, "post", by_id=ADA, by="Ada", now=NOW)
    assert await repo.decide(second, "skip", by_id=ADA, by="Ada", now=NOW)
    assert await one(db, "SELECT user_id, article_id FROM dm_outbox") == [(READER, first)]  # not the skipped


async def test_daily_subscribers_are_not_messaged_on_release(db: Database) -> None:
    topics = TopicRepo(db)
    stored, _ = await topics.save(Topic("budget", "Budget news", ("budget",)), NOW)
    await topics.subscribe(READER, stored.id, NOW, mode="daily")
    await put(db, [article(1, headline="Budget passes")], topics=True)
    article_id = (await one(db, "SELECT id FROM articles"))[0][0]
    assert isinstance(article_id, int)
    assert await ReviewRepo(db).decide(article_id, "post", by_id=ADA, by="Ada", now=NOW)
    assert await one(db, "SELECT COUNT(*) FROM dm_outbox") == [(0,)]


async def test_decisions_set_the_posts_flags(db: Database) -> None:
    await put(db, [article(i) for i in range(1, 5)])
    repo = ReviewRepo(db)
    ids = [r[0] for r in await one(db, "SELECT id FROM articles ORDER BY id")]
    for article_id, state in zip(ids, ("post", "silent", "breaking", "skip"), strict=True):
        assert isinstance(article_id, int)
        assert await repo.decide(article_id, state, by_id=ADA, by="Ada", now=NOW)
        review = await repo.get(article_id)
        assert review is not None
        assert (review.state, review.decided.by, review.decided.at) == (state, "Ada", NOW)
    rows = await one(db, "SELECT review, silent, breaking, state, last_error FROM outbox ORDER BY article_id")
    assert rows == [
        (0, 0, 0, "queued", None),
        (0, 1, 0, "queued", None),
        (0, 0, 1, "queued", None),
        (0, 0, 0, "skipped", "skipped by an editor"),
    ]
    heads = await OutboxRepo(db).due_heads(NOW + timedelta(seconds=1))
    assert [h.article_id for h in heads] == [ids[2]]  # the chat's head: the breaking one first


async def test_the_first_decision_wins_and_later_ones_change_nothing(db: Database) -> None:
    await put(db, [article(1)])
    repo = ReviewRepo(db)
    article_id = (await one(db, "SELECT id FROM articles"))[0][0]
    assert isinstance(article_id, int)
    assert await repo.decide(article_id, "skip", by_id=BEN, by="Ben", now=NOW)
    assert not await repo.decide(article_id, "post", by_id=ADA, by="Ada", now=NOW + timedelta(seconds=1))
    assert not await repo.edit(article_id, "Too late", "")
    assert await repo.expire(NOW + timedelta(days=1), NOW + timedelta(days=1)) == []
    assert await one(db, "SELECT state, decided_by_name FROM reviews") == [("skip", "Ben")]
    assert await one(db, "SELECT state FROM outbox") == [("skipped",)]
    assert not await repo.decide(article_id + 1, "post", by_id=ADA, by="Ada", now=NOW)  # no such review


async def test_two_connections_deciding_at_once_one_wins(db: Database, tmp_path: Path) -> None:
    await subscribed(db)
    await put(db, [article(i, headline=f"Budget story {i}") for i in range(1, 21)], topics=True)
    ids = [r[0] for r in await one(db, "SELECT id FROM articles ORDER BY id")]
    async with Database(tmp_path / "bot.db") as other:
        for article_id in ids:
            assert isinstance(article_id, int)
            wins = await asyncio.gather(
                ReviewRepo(db).decide(article_id, "post", by_id=ADA, by="Ada", now=NOW),
                ReviewRepo(other).decide(article_id, "skip", by_id=BEN, by="Ben", now=NOW),
                ReviewRepo(other).decide(article_id, "silent", by_id=BEN, by="Ben", now=NOW),
            )
            assert sorted(wins) == [False, False, True]
            won = ("post", "skip", "silent")[wins.index(True)]
            assert await one(db, f"SELECT state FROM reviews WHERE article_id = {article_id}") == [(won,)]
            outbox = await one(db, f"SELECT state, silent FROM outbox WHERE article_id = {article_id}")
            assert outbox == [{"post": ("queued", 0), "skip": ("skipped", 0), "silent": ("queued", 1)}[won]]
            dms = await one(db, f"SELECT COUNT(*) FROM dm_outbox WHERE article_id = {article_id}")
            assert dms == [(0 if won == "skip" else 1,)]


async def test_an_edit_changes_the_pending_post_and_asks_for_a_new_preview(db: Database) -> None:
    await put(db, [article(1)])
    repo = ReviewRepo(db)
    article_id = (await one(db, "SELECT id FROM articles"))[0][0]
    assert isinstance(article_id, int)
    await repo.add_messages(article_id, [("-100555", 10)], "preview", NOW)
    assert await repo.unannounced() == []
    assert await repo.edit(article_id, "<b>New</b> headline", "New dek")
    item = await repo.item(article_id)
    assert item is not None
    assert (item.headline, item.dek) == ("<b>New</b> headline", "New dek")
    assert await one(db, "SELECT headline FROM articles") == [("Headline number 1",)]  # the article stays
    review = await repo.get(article_id)
    assert review is not None
    assert review.edited
    assert await repo.unannounced() == [article_id]  # the loop sends the new preview


async def test_expiry_drops_only_old_pending_reviews(db: Database) -> None:
    await put(db, [article(1)], at=NOW - timedelta(hours=7))
    await put(db, [article(2)], at=NOW - timedelta(hours=5))
    repo = ReviewRepo(db)
    old, young = (r[0] for r in await one(db, "SELECT id FROM articles ORDER BY id"))
    assert await repo.expire(NOW - timedelta(hours=6), NOW) == [old]
    assert await repo.expire(NOW - timedelta(hours=6), NOW) == []
    rows = await one(
        db, "SELECT r.state, o.state, o.last_error FROM reviews r JOIN outbox o USING (article_id)"
    )
    assert rows == [("expired", "skipped", "review expired"), ("pending", "queued", None)]
    assert isinstance(young, int)
    assert await repo.decide(young, "post", by_id=ADA, by="Ada", now=NOW)


async def test_messages_prompts_and_the_signing_key(db: Database, tmp_path: Path) -> None:
    await put(db, [article(1)])
    repo = ReviewRepo(db)
    article_id = (await one(db, "SELECT id FROM articles"))[0][0]
    assert isinstance(article_id, int)
    await repo.add_messages(article_id, [("-100555", 10), ("4242", 3)], "preview", NOW)
    await repo.add_messages(article_id, [("-100555", 11)], "prompt", NOW)
    assert sorted(await repo.messages(article_id)) == [("-100555", 10), ("4242", 3)]
    assert await repo.messages(article_id, "prompt") == [("-100555", 11)]
    assert await repo.prompt_for("-100555", 11) == article_id
    assert await repo.prompt_for("-100555", 10) is None  # a preview, not a prompt
    assert await repo.prompt_for("-100666", 11) is None
    secret = await repo.secret()
    assert len(secret) >= 32
    async with Database(tmp_path / "bot.db") as other:
        assert await ReviewRepo(other).secret() == secret  # made once per database
