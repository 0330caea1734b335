"""The chat read queries on a real SQLite file: order, topic lists, FTS5 search, hostile input, query plans.

Topic storage, re-tagging and subscriptions are checked here too, against the same factory database.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.adapters.db import Database
from bot.adapters.repo_reading import (
    BY_TOPIC_SQL,
    LATEST_SQL,
    SEARCH_SQL,
    SEARCH_WINDOW,
    ReadingRepo,
    fts_query,
    search_words,
)
from bot.adapters.repo_topics import TopicRepo, matcher_for
from bot.core.models import Topic
from tests.articlefactory import NOW, TOPICS, FactoryResult, fill_articles

N = 3000


@pytest.fixture
def factory_db(tmp_path: Path) -> tuple[Path, FactoryResult]:
    path = tmp_path / "articles.db"
    return path, fill_articles(path, N, span=timedelta(days=60), seed=7)


@pytest.fixture
async def db(factory_db: tuple[Path, FactoryResult]) -> AsyncIterator[Database]:
    database = await Database(factory_db[0]).open()
    try:
        yield database
    finally:
        await database.close()


def _plan(path: Path, sql: str, params: dict[str, object]) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params)]


def _full_scans(plan: list[str]) -> list[str]:
    """Plan steps that read every row of articles or article_topics (a SCAN without an index)."""
    return [
        step
        for step in plan
        if step.startswith("SCAN")
        and ("articles" in step or " a" in step or " t" in step)
        and "INDEX" not in step
    ]


def test_query_plans_use_indexes(factory_db: tuple[Path, FactoryResult]) -> None:
    path, made = factory_db
    with sqlite3.connect(path) as conn:
        conn.execute("ANALYZE")
    cases = {
        "latest": (LATEST_SQL, {"n": 20}, "articles_by_published"),
        "by_topic": (BY_TOPIC_SQL, {"n": 20, "topic_id": made.topic_ids["tech"]}, "article_topics_by_time"),
        "search": (
            SEARCH_SQL,
            {"n": 20, "q": '"election"', "window": SEARCH_WINDOW, "hw": 4.0},
            "VIRTUAL TABLE",
        ),
    }
    for name, (sql, params, expected) in cases.items():
        plan = _plan(path, sql, params)
        assert not _full_scans(plan), f"{name} scans a table: {plan}"
        assert any(expected in step for step in plan), f"{name} does not use {expected}: {plan}"
        # articles are fetched by primary key, never by a scan
        assert all("SCAN articles " not in f"{step} " for step in plan), plan
    # the check itself can fail: a query without a usable index is caught
    assert _full_scans(_plan(path, "SELECT * FROM articles WHERE dek LIKE '%x%'", {}))


async def test_latest_is_newest_first(db: Database) -> None:
    repo = ReadingRepo(db)
    latest = await repo.latest(20)
    assert len(latest) == 20
    keys = [(a.published, a.id) for a in latest]
    assert keys == sorted(keys, reverse=True)
    row = await db.fetchone("SELECT MAX(published_at) FROM articles")
    assert row is not None
    assert latest[0].published == datetime.fromtimestamp(row[0], UTC)
    assert latest[0].url.startswith("https://www.")
    assert latest[0].source
    assert await repo.latest(0) == []


async def test_by_topic_matches_the_topic_rules(db: Database, factory_db: tuple[Path, FactoryResult]) -> None:
    repo = ReadingRepo(db)
    topics = TopicRepo(db)
    tech = await topics.get("TECH")  # names ignore case
    assert tech is not None
    articles = await repo.by_topic(tech.id, 15)
    assert len(articles) == 15
    assert [a.published for a in articles] == sorted((a.published for a in articles), reverse=True)
    matcher = matcher_for(tech)
    assert all(matcher.matches(a.headline, a.dek, a.categories) for a in articles)
    assert await repo.by_topic(999_999, 5) == []


async def test_search_ranks_and_prefers_newest_among_equals(db: Database) -> None:
    repo = ReadingRepo(db)
    result = await repo.search("election", 20)
    assert result.all_words
    assert result.words == ("election",)
    assert len(result.articles) == 20
    assert all("election" in f"{a.headline} {a.dek}".lower() for a in result.articles)
    # among the best-ranked, headline matches (weighted) come before dek-only matches
    assert "election" in result.articles[0].headline.lower()
    # ties are broken by publication time, newest first: check within the top rank group
    ranks = await db.fetchall(
        "SELECT rowid, ROUND(bm25(articles_fts, 4.0, 1.0), 1) FROM articles_fts WHERE articles_fts MATCH ?",
        ('"election"',),
    )
    rank_of = {r[0]: r[1] for r in ranks}
    for earlier, later in zip(result.articles, result.articles[1:], strict=False):
        assert rank_of[earlier.id] <= rank_of[later.id]
        if rank_of[earlier.id] == rank_of[later.id]:
            assert (earlier.published, earlier.id) >= (later.published, later.id)


async def test_search_all_words_then_any_word(db: Database) -> None:
    repo = ReadingRepo(db)
    both = await repo.search("football Berlin", 10)
    assert both.all_words
    assert both.articles
    assert all(
        "football" in f"{a.headline} {a.dek}".lower() and "berlin" in f"{a.headline} {a.dek}".lower()
        for a in both.articles
    )
    either = await repo.search("football zzzunknownzzz", 10)
    assert not either.all_words
    assert either.articles
    nothing = await repo.search("zzzunknownzzz", 10)
    assert nothing.articles == []
    assert nothing.all_words


@pytest.mark.parametrize(
    "text",
    [
        '"',
        '""',
        "a OR b",
        "NOT election",
        "election*",
        "headline: election",
        "{headline dek}: x",
        "NEAR(a b, 3)",
        "x AND",
        "(((",
        "^start",
        "'; DROP TABLE articles; --",
        "<script>alert(1)</script>",
        "\u200b\u202e\u0000",
        "🚀🌍",
        "ｅｌｅｃｔｉｏｎ",
        "Zürich",
        "هذا اختبار",
        "हिन्दी",
        "\ud800",
        "a" * 5000,
        " , ; ",
    ],
)
async def test_search_never_passes_raw_input_to_match(db: Database, text: str) -> None:
    result = await ReadingRepo(db).search(text, 5)
    assert isinstance(result.articles, list)
    row = await db.fetchone("SELECT COUNT(*) FROM articles")
    assert row is not None
    assert row[0] == N


async def test_search_finds_unicode_and_symbols(db: Database) -> None:
    repo = ReadingRepo(db)
    assert (await repo.search("ｅｌｅｃｔｉｏｎ", 3)).articles  # fullwidth folds to ASCII
    assert (await repo.search("zurich", 3)).articles  # diacritics removed both ways
    assert (await repo.search("Zürich", 3)).articles
    odd = await repo.search("AT&T", 3)
    assert odd.articles
    assert "AT&T" in odd.articles[0].headline


def test_search_words_and_query_quoting() -> None:
    assert search_words('  "Election",  results; ') == ("Election", "results")
    assert search_words("a a A") == ("a",)
    assert search_words("!!! 🚀 ...") == ()
    assert len(search_words(" ".join(f"w{i}" for i in range(50)))) == 8
    assert fts_query(("say", 'he"llo')) == '"say" "he""llo"'
    assert fts_query(("a", "b"), any_word=True) == '"a" OR "b"'


async def test_count_by_feed(db: Database, factory_db: tuple[Path, FactoryResult]) -> None:
    counts = await ReadingRepo(db).count_by_feed()
    assert sum(counts.values()) == N
    assert set(counts) <= set(factory_db[1].feed_ids)


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
