"""The chat read queries on a real SQLite file: order, topic lists, FTS5 search, odd input, query plans."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.adapters import repo_reading
from bot.adapters.db import Database
from bot.adapters.repo_reading import (
    BY_TOPIC_SQL,
    COMMON_TTL,
    COUNT_MATCHES_SQL,
    LATEST_SQL,
    SEARCH_SQL,
    SEARCH_WINDOW,
    TIERED_SEARCH_SQL,
    ReadingRepo,
    fts_query,
    search_words,
)
from bot.adapters.repo_topics import TopicRepo, matcher_for
from tests.kits.articlefactory import FactoryResult, fill_articles

N = 3000


@pytest.fixture(scope="module")
def factory_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, FactoryResult]:
    """Built once per module; each test gets its own copy."""
    path = tmp_path_factory.mktemp("factory") / "articles.db"
    made = fill_articles(path, N, span=timedelta(days=60), seed=7)
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path, made


@pytest.fixture
def factory_db(tmp_path: Path, factory_template: tuple[Path, FactoryResult]) -> tuple[Path, FactoryResult]:
    path = tmp_path / "articles.db"
    shutil.copyfile(factory_template[0], path)
    return path, factory_template[1]


@pytest.fixture
async def db(factory_db: tuple[Path, FactoryResult]) -> AsyncIterator[Database]:
    database = await Database(factory_db[0]).open()
    try:
        yield database
    finally:
        await database.close()


def _plan(path: Path, sql: str, params: dict[str, object]) -> list[str]:
    with closing(sqlite3.connect(path)) as conn:
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
    with closing(sqlite3.connect(path)) as conn:
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
    cases["tiered_search"] = (
        TIERED_SEARCH_SQL,
        {"n": 20, "q": '"election"', "hq": '{headline} : ("election")', "window": SEARCH_WINDOW, "pool": 50},
        "VIRTUAL TABLE",
    )
    cases["count_matches"] = (COUNT_MATCHES_SQL, {"q": '"election"', "cap": 5001}, "VIRTUAL TABLE")
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


async def test_search_of_common_words_ranks_headline_matches_first_then_newest(db: Database) -> None:
    """Above the bm25 cap (here 10 matches) ranking is by tiers: words in the headline first, newest first."""
    tiered = ReadingRepo(db, bm25_max_matches=10)
    result = await tiered.search("election", 20)
    assert len(result.articles) == 20
    in_headline = ["election" in a.headline.lower() for a in result.articles]
    assert in_headline == sorted(in_headline, reverse=True)  # all headline matches come first
    for tier in (True, False):
        group = [a for a, h in zip(result.articles, in_headline, strict=True) if h is tier]
        assert [(a.published, a.id) for a in group] == sorted(
            ((a.published, a.id) for a in group), reverse=True
        )
    newest_headline = await db.fetchone(
        "SELECT a.id FROM articles_fts JOIN articles AS a ON a.id = articles_fts.rowid"
        " WHERE articles_fts MATCH '{headline} : election' ORDER BY a.published_at DESC, a.id DESC LIMIT 1"
    )
    assert newest_headline is not None
    assert result.articles[0].id == newest_headline[0]
    both = await tiered.search("football Berlin", 5)
    assert both.all_words
    assert len(both.articles) == 5
    fallback = await tiered.search("football zzzunknownzzz", 5)
    assert not fallback.all_words
    assert len(fallback.articles) == 5


@pytest.mark.parametrize("pool", [3, 50])
@pytest.mark.parametrize("words", ["election", "football", "Berlin", "football Berlin"])
async def test_tiered_search_with_headline_matches_cut_at_the_pool_is_unchanged(
    db: Database, words: str, pool: int
) -> None:
    """h stops after :pool rows; the answer is the one of the query that reads every headline match."""
    full = repo_reading.TIERED_SEARCH_SQL.replace(" ORDER BY rowid DESC LIMIT :pool),", "),")
    assert full != repo_reading.TIERED_SEARCH_SQL
    q = repo_reading.fts_query(repo_reading.search_words(words))
    for n in (1, 5, 20):
        params = {"q": q, "hq": f"{{headline}} : ({q})", "window": 1000, "pool": max(pool, n), "n": n}
        got = [r["id"] for r in await db.fetchall(repo_reading.TIERED_SEARCH_SQL, params)]
        want = [r["id"] for r in await db.fetchall(full, params)]
        assert got == want
        assert len(got) == n


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


async def test_a_common_verdict_is_remembered_for_an_hour(db: Database) -> None:
    """Common words skip the capped count for COMMON_TTL; rare ones are counted every time."""
    now = [1000.0]
    repo = ReadingRepo(db, bm25_max_matches=10, clock=lambda: now[0])
    counts: list[str] = []
    await db.conn.set_trace_callback(
        lambda sql: counts.append(sql) if sql.startswith("SELECT COUNT(*)") else None
    )
    try:
        first = await repo.search("election", 5)
        again = await repo.search("Election", 5)  # the same words, whatever the case
        assert [a.id for a in again.articles] == [a.id for a in first.articles]
        assert len(counts) == 1
        await repo.search("zzzunknownzzz", 5)  # rare: counted each time
        await repo.search("zzzunknownzzz", 5)
        assert len(counts) == 3
        now[0] += COMMON_TTL + 1
        await repo.search("election", 5)
        assert len(counts) == 4
    finally:
        await db.conn.set_trace_callback(None)
