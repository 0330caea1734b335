"""Topics on a real SQLite file: the factory's tags agree with the rules, re-tagging in batches, the
category rule, removal with tags and subscriptions."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.adapters.db import Database
from bot.adapters.repo_topics import TopicRepo, matcher_for
from bot.core.models import Topic
from tests.kits.articlefactory import NOW, TOPICS, fill_articles


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    path = tmp_path / "articles.db"
    fill_articles(path, 3000, span=timedelta(days=60), seed=7)
    database = await Database(path).open()
    try:
        yield database
    finally:
        await database.close()


async def test_factory_tags_agree_with_topic_rules(db: Database) -> None:
    topics = await TopicRepo(db).all()
    assert {t.name for t in topics} == {t.name for t in TOPICS}
    rows = await db.fetchall(
        "SELECT a.headline, a.dek, a.categories, group_concat(t.topic_id) FROM articles AS a"
        " LEFT JOIN article_topics AS t ON t.article_id = a.id GROUP BY a.id ORDER BY a.id LIMIT 400"
    )
    for headline, dek, categories, tagged in rows:
        expected = {
            t.id for t in topics if matcher_for(t).matches(headline, dek, tuple(json.loads(categories)))
        }
        assert {int(x) for x in (tagged or "").split(",") if x} <= expected


async def test_retag_applies_new_rules_to_recent_articles_in_batches(db: Database) -> None:
    repo = TopicRepo(db)
    stored, created = await repo.save(Topic("berlin", "Berlin news", ("Berlin",)), NOW)
    assert created
    tagged = await repo.retag(stored, now=NOW, max_age=timedelta(days=10), batch=100)
    window = await db.fetchall(
        "SELECT id, headline, dek FROM articles WHERE published_at >= ?",
        (int((NOW - timedelta(days=10)).timestamp()),),
    )
    expected = {r[0] for r in window if "berlin" in f"{r[1]} {r[2]}".lower()}
    got = {
        r[0]
        for r in await db.fetchall("SELECT article_id FROM article_topics WHERE topic_id = ?", (stored.id,))
    }
    assert tagged == len(expected) > 0
    assert got == expected
    # changed rules: old tags go, new ones come; the cap on articles is honoured
    changed, created = await repo.save(Topic("Berlin", "Berlin news", ("Paris",)), NOW)
    assert not created
    assert changed.id == stored.id
    await repo.retag(changed, now=NOW, max_articles=250, batch=100)
    rows = await db.fetchall(
        "SELECT a.headline, a.dek FROM article_topics AS t JOIN articles AS a ON a.id = t.article_id"
        " WHERE t.topic_id = ?",
        (stored.id,),
    )
    assert rows
    assert all("paris" in f"{r[0]} {r[1]}".lower() for r in rows)
    assert len(rows) <= 250


async def test_topic_categories_match_by_name_or_keyword(db: Database) -> None:
    repo = TopicRepo(db)
    # factory articles carry category "Climate" on some climate stories; a topic named "climate" with an
    # unrelated keyword still gets them through the category rule
    stored, _ = await repo.save(Topic("climate", "", ("zzz-nothing",)), NOW)
    tagged = await repo.retag(stored, now=NOW, max_age=timedelta(days=60))
    cats = await db.fetchall("SELECT COUNT(*) FROM articles WHERE categories LIKE '%\"Climate\"%'")
    assert tagged == cats[0][0] > 0


async def test_remove_topic_drops_tags_and_subscriptions(db: Database) -> None:
    repo = TopicRepo(db)
    sport = await repo.get("sport")
    assert sport is not None
    assert await repo.subscribe(7, sport.id, NOW)
    assert not await repo.subscribe(7, sport.id, NOW)  # already
    assert [t.name for t in await repo.subscriptions(7)] == ["sport"]
    assert await repo.subscriber_count(sport.id) == 1
    assert await repo.remove("SPORT")
    assert not await repo.remove("sport")
    assert await repo.subscriptions(7) == []
    assert await repo.article_count(sport.id) == 0
    assert not await repo.unsubscribe(7, sport.id)
