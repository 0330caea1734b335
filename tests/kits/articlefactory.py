"""Fills a newsbot database with real-looking synthetic articles, feeds, topics and tags, fast.

Used by the chat tests (a few hundred articles) and by `make bench` (a million). It writes with the plain
`sqlite3` module in one transaction, with the FTS triggers lifted during the bulk insert and the full-text
index rebuilt once afterwards; the schema itself comes from the project's migrations. Everything is
deterministic for a given seed. Storing through `ArticleRepo` is what the ingest tests cover; this module is
only about getting a large, plausible database quickly.
"""

from __future__ import annotations

import json
import random
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.adapters.db import load_migrations
from bot.core.models import Topic
from bot.core.timeutil import to_epoch

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)

# Each topic's keywords drive both its rules and the headlines written for it, so TopicMatcher agrees
# with the tags the factory writes directly.
TOPICS: tuple[Topic, ...] = (
    Topic("politics", "Elections, parliaments and governments", ("election", "parliament", "minister")),
    Topic("climate", "Climate, weather and the environment", ("climate", "heatwave", "emissions")),
    Topic(
        "tech", "Technology, science and the internet", ("software", "chipmaker", "artificial intelligence")
    ),
    Topic("sport", "Football, tennis and everything else", ("football", "tennis", "marathon")),
    Topic("economy", "Markets, money and jobs", ("inflation", "central bank", "tariffs")),
    Topic("health", "Medicine and public health", ("hospital", "vaccine", "virus")),
)
SOURCES = (
    ("Daily Planet", "dailyplanet.example"),
    ("Metro Tribune", "metrotribune.example"),
    ("Le Quotidien", "lequotidien.example"),
    ("Nordic Herald", "nordicherald.example"),
    ("Coastal Gazette", "coastalgazette.example"),
    ("The Morning Ledger", "morningledger.example"),
    ("Ciudad Noticias", "ciudadnoticias.example"),
    ("Valley Courier", "valleycourier.example"),
)
_PLACES = (
    "Berlin", "Paris", "Nairobi", "São Paulo", "Tokyo", "Zürich", "Lagos", "Oslo", "Kraków", "Montréal",
    "Seoul", "Lima", "Accra", "Dublin", "Reykjavík", "Chennai", "Hobart", "Tbilisi",
)  # fmt: skip
_VERBS = (
    "shakes up", "puts pressure on", "dominates talks in", "divides opinion in", "returns to",
    "stalls in", "sparks protests in", "lifts hopes in", "takes centre stage in", "surprises",
)  # fmt: skip
_OPENERS = (
    "Officials said on {day} that",
    "Analysts warned that",
    "Residents told reporters that",
    "According to figures released on {day},",
    "In a statement late on {day},",
)
_CLAUSES = (
    "the {kw} debate would continue well into next year",
    "the {kw} question had been settled for now",
    "more than {n} people were affected by the {kw} decision",
    "the {kw} plan would cost about {n} million euros",
    "the latest {kw} figures were the highest since {year}",
)
_CATEGORIES = tuple(json.dumps([t.name.capitalize()]) for t in TOPICS)
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# Headlines that exercise escaping and odd text: every 50th article has one.
_ODD = (
    "AT&T and R&D: <b>not</b> a tag, just text & symbols",
    "“Quoted” headline with ‘curly’ quotes — and a dash",
    "Emoji in the news 🚀🌍 as launch season opens",
    "Ünïcödé héadline from Zürich with accents",
    "Price < cost > value? Markets say “it depends”",
)


@dataclass(frozen=True, slots=True)
class FactoryResult:
    articles: int
    feed_ids: tuple[int, ...]
    topic_ids: dict[str, int]  # topic name -> id
    newest_published: datetime
    oldest_published: datetime


def migrate_file(path: Path) -> None:
    """Create or upgrade the database at `path` with the project's migrations (sync, for fixtures)."""
    with sqlite3.connect(path, isolation_level=None) as conn:
        conn.execute("PRAGMA journal_mode = WAL")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        for migration in load_migrations():
            if migration.version > version:
                conn.executescript(migration.sql)
    conn.close()


def _dek(rng: random.Random, topic: Topic) -> str:
    sentences = []
    for _ in range(2):
        opener = rng.choice(_OPENERS).format(day=rng.choice(_DAYS))
        clause = rng.choice(_CLAUSES).format(
            kw=rng.choice(topic.keywords), n=rng.randint(2, 900), year=rng.randint(1990, 2023)
        )
        sentences.append(f"{opener} {clause}.")
    return " ".join(sentences)


@dataclass(frozen=True, slots=True)
class _Pools:
    """Every headline and a few thousand deks per topic, made once: picking is then one random() each."""

    headlines: tuple[tuple[str, ...], ...]  # per topic: keyword x verb x place
    slugs: tuple[tuple[str, ...], ...]
    deks: tuple[tuple[str, ...], ...]

    @classmethod
    def make(cls, rng: random.Random, deks_per_topic: int = 3000) -> _Pools:
        headlines = tuple(
            tuple(f"{k.capitalize()} {v} {p}" for k in t.keywords for v in _VERBS for p in _PLACES)
            for t in TOPICS
        )
        slugs = tuple(tuple("-".join(h.lower().split()[:5]) for h in hs) for hs in headlines)
        deks = tuple(tuple(_dek(rng, t) for _ in range(deks_per_topic)) for t in TOPICS)
        return cls(headlines, slugs, deks)


def _rows(
    n: int, rng: random.Random, feed_ids: list[int], now: datetime, span: timedelta, first_id: int
) -> Iterator[tuple[tuple[object, ...], int]]:
    """(article row, topic index or -1) in chronological order, oldest first, with a little jitter."""
    pools = _Pools.make(rng)
    step = span.total_seconds() / max(n, 1)
    start = to_epoch(now) - int(span.total_seconds())
    now_s = to_epoch(now)
    random_ = rng.random
    n_feeds, n_topics = len(feed_ids), len(TOPICS)
    odd_slugs = tuple("-".join(h.lower().split()[:5]) for h in _ODD)
    for i in range(n):
        article_id = first_id + i
        published = min(now_s, start + int(i * step + random_() * step))
        feed_index = int(random_() * n_feeds)
        source, domain = SOURCES[feed_index % len(SOURCES)]
        topic_index = int(random_() * n_topics)
        if i % 50 == 7:  # every 50th, so even a small database has each of them
            odd = (i // 50) % len(_ODD)
            headline, slug, dek, topic_index = _ODD[odd], odd_slugs[odd], "", -1
        else:
            pick = int(random_() * len(pools.headlines[topic_index]))
            headline, slug = pools.headlines[topic_index][pick], pools.slugs[topic_index][pick]
            deks = pools.deks[topic_index]
            dek = deks[int(random_() * len(deks))]
        categories = _CATEGORIES[topic_index] if topic_index >= 0 and random_() < 0.3 else "[]"
        row = (
            article_id,
            feed_ids[feed_index],
            f"{domain}-{article_id}",
            f"https://www.{domain}/news/{article_id}-{slug}",
            headline,
            dek,
            published,
            published + 30 + int(random_() * 570),
            categories,
            source,
        )
        yield row, topic_index


def fill_articles(
    path: Path,
    n: int,
    *,
    now: datetime = NOW,
    span: timedelta = timedelta(days=365),
    seed: int = 0,
    feeds: int = len(SOURCES),
    with_topics: bool = True,
) -> FactoryResult:
    """Migrate `path` if needed and add `n` articles published over `span` up to `now`, tagged by topic.

    A million articles take well under a minute. Existing rows are kept; new ids follow the largest one.
    """
    migrate_file(path)
    rng = random.Random(seed)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("BEGIN IMMEDIATE")
        feed_ids = []
        for i in range(feeds):
            _, domain = SOURCES[i % len(SOURCES)]
            url = f"https://www.{domain}/feed/{i}" if i >= len(SOURCES) else f"https://www.{domain}/feed"
            # fetched five minutes ago and not due for a day, so a running bot leaves them alone
            conn.execute(
                "INSERT OR IGNORE INTO feeds (url, title, site_url, added_at, synced, last_fetched_at,"
                " next_fetch_at) VALUES (?, ?, ?, ?, 1, ?, ?)",
                (
                    url,
                    SOURCES[i % len(SOURCES)][0],
                    f"https://www.{domain}/",
                    to_epoch(now) - 86_400 * 400,
                    to_epoch(now) - 300,
                    to_epoch(now) + 86_400,
                ),
            )
            feed_ids.append(conn.execute("SELECT id FROM feeds WHERE url = ?", (url,)).fetchone()[0])
        topic_ids: dict[str, int] = {}
        if with_topics:
            for topic in TOPICS:
                conn.execute(
                    "INSERT OR IGNORE INTO topics (name, description, keywords, categories, created_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (topic.name, topic.description, json.dumps(list(topic.keywords)), "[]", to_epoch(now)),
                )
                row = conn.execute("SELECT id FROM topics WHERE name = ?", (topic.name,)).fetchone()
                topic_ids[topic.name] = row[0]
        triggers = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'articles'"
        ).fetchall()
        for name, _ in triggers:
            conn.execute(f'DROP TRIGGER "{name}"')
        first_id = (conn.execute("SELECT MAX(id) FROM articles").fetchone()[0] or 0) + 1
        batch: list[tuple[object, ...]] = []
        tags: list[tuple[int, int, int]] = []
        published: list[int] = []
        for row, topic_index in _rows(n, rng, feed_ids, now, span, first_id):
            batch.append(row)
            published.append(int(row[6]))  # type: ignore[call-overload]
            if with_topics and topic_index >= 0:
                tags.append((topic_ids[TOPICS[topic_index].name], int(row[0]), int(row[6])))  # type: ignore[call-overload]
            if len(batch) >= 50_000:
                _flush(conn, batch, tags)
        _flush(conn, batch, tags)
        if triggers:
            conn.execute("INSERT INTO articles_fts (articles_fts) VALUES ('rebuild')")
            for _, sql in triggers:
                conn.execute(sql)
        conn.execute("COMMIT")
        conn.execute("PRAGMA optimize")
    finally:
        conn.close()
    return FactoryResult(
        articles=n,
        feed_ids=tuple(feed_ids),
        topic_ids=topic_ids,
        newest_published=datetime.fromtimestamp(max(published, default=to_epoch(now)), UTC),
        oldest_published=datetime.fromtimestamp(min(published, default=to_epoch(now)), UTC),
    )


def _flush(
    conn: sqlite3.Connection, batch: list[tuple[object, ...]], tags: list[tuple[int, int, int]]
) -> None:
    conn.executemany(
        "INSERT INTO articles (id, feed_id, guid, url, headline, dek, published_at, first_seen_at,"
        " categories, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        batch,
    )
    conn.executemany(
        "INSERT OR IGNORE INTO article_topics (topic_id, article_id, published_at) VALUES (?, ?, ?)", tags
    )
    batch.clear()
    tags.clear()
