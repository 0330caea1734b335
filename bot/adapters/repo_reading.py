"""Read-only SQL behind the chat commands: newest articles, a topic's newest, and full-text search.

Every query walks an index (articles_by_published, article_topics_by_time, the FTS5 index) and reads only the
rows it returns; tests/adapters/test_repo_reading.py checks the query plans. Writes live in repo_articles and
repo_topics.

Search is bounded, whatever the words. It only ever looks at the newest `SEARCH_WINDOW` matches (FTS5 walks
its postings by rowid, newest first, and stops there). Ranking them with FTS5's bm25() is exact but costs a
pass over every posting of every word (its document frequency), whatever the window: measured on a million
articles, 11 ms for a word in 11% of them and 38 ms for one in 98% ("the"), against a 10 ms goal for the
whole reply. So a cheap capped count decides first:
- every word is rare (together at most `BM25_MAX_MATCHES` articles): bm25 over the window, headline words
  weighted `HEADLINE_WEIGHT`; scores equal to one decimal count as equal, newest first among equals;
- otherwise: two tiers, articles with the words in the headline before those with them only in the dek,
  newest first in each (index-only: about 1-3 ms on a million articles for any word).
"""

from __future__ import annotations

import re
import sqlite3
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.adapters.db import Database, json_strings
from bot.core.models import StoredArticle
from bot.core.timeutil import from_epoch, to_epoch

SEARCH_WINDOW = 1000  # rank among at most this many newest matches
# Above this many matches, rank by tiers instead of bm25 (see above). The window's size: bm25 then ranks
# every match, and the capped count costs a fifth of what 5,000 did (about 0.1 against 0.5 ms).
BM25_MAX_MATCHES = SEARCH_WINDOW
SEARCH_POOL = 50  # tiered search: rows per query read from articles to sort by publication time
# Words found common stay common: the archive only grows (pruning could make them rare again, so the verdict
# is kept an hour, not forever). Remembering it spares common words, the most searched, the capped count.
COMMON_TTL = 3600.0
COMMON_REMEMBERED = 4096
MAX_QUERY_TOKENS = 8
MAX_TOKEN_CHARS = 64
HEADLINE_WEIGHT = 4.0  # a word in the headline counts this many times one in the dek

# A search word is a run of text between spaces or commas; inside a quoted FTS5 string the tokenizer splits
# it again exactly as it split the stored text ("AT&T" becomes the phrase "at t"), so nothing is lost.
_SPLIT_RE = re.compile(r"[\s,;]+")
_EDGE_PUNCT = "\"'`.!?:()[]{}<>*^+-=~|\\/#@$%&"
_COLUMNS = "a.id, a.feed_id, a.url, a.headline, a.dek, a.published_at, a.first_seen_at, a.categories, "
_COLUMNS += "a.image, a.source"


@dataclass(frozen=True, slots=True)
class SearchResult:
    """Articles found for a search; `all_words` is False when none had every word and any word was used."""

    articles: list[StoredArticle]
    words: tuple[str, ...]
    all_words: bool = True


def _is_token_char(ch: str) -> bool:
    category = unicodedata.category(ch)
    return category[0] in "LN" or category == "Co"


def search_words(text: str) -> tuple[str, ...]:
    """The words of a user's search, ready to quote; FTS5 syntax in them is kept as plain text.

    NFKC-normalised (fullwidth letters, ligatures), control characters dropped, punctuation trimmed from
    each end, words without a letter or digit dropped, duplicates (ignoring case) dropped, at most
    MAX_QUERY_TOKENS words of at most MAX_TOKEN_CHARS characters each, in the order given.
    """
    normal = unicodedata.normalize("NFKC", text)
    normal = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in normal)
    seen: dict[str, str] = {}
    for chunk in _SPLIT_RE.split(normal):
        word = chunk.strip(_EDGE_PUNCT)[:MAX_TOKEN_CHARS]
        if not any(_is_token_char(ch) for ch in word):
            continue
        seen.setdefault(word.casefold(), word)
        if len(seen) >= MAX_QUERY_TOKENS:
            break
    return tuple(seen.values())


def fts_query(words: tuple[str, ...], *, any_word: bool = False) -> str:
    """An FTS5 MATCH expression: each word a quoted string (so no operator or column filter is possible)."""
    quoted = ['"' + w.replace('"', '""') + '"' for w in words]
    return (" OR " if any_word else " ").join(quoted)


def _row_to_article(row: sqlite3.Row) -> StoredArticle:
    categories = json_strings(row["categories"])
    published = from_epoch(row["published_at"])
    assert published is not None
    return StoredArticle(
        id=row["id"],
        feed_id=row["feed_id"],
        url=row["url"],
        headline=row["headline"],
        dek=row["dek"],
        published=published,
        categories=categories,
        image=row["image"],
        source=row["source"],
        first_seen=from_epoch(row["first_seen_at"]),
    )


LATEST_SQL = f"SELECT {_COLUMNS} FROM articles AS a ORDER BY a.published_at DESC, a.id DESC LIMIT :n"
BY_TOPIC_SQL = (
    f"SELECT {_COLUMNS} FROM article_topics AS t JOIN articles AS a ON a.id = t.article_id"
    " WHERE t.topic_id = :topic_id ORDER BY t.published_at DESC, t.article_id DESC LIMIT :n"
)
SEARCH_SQL = (
    f"SELECT {_COLUMNS} FROM ("
    "  SELECT rowid AS id, bm25(articles_fts, :hw, 1.0) AS score FROM articles_fts"
    "  WHERE articles_fts MATCH :q ORDER BY rowid DESC LIMIT :window"
    ") AS m JOIN articles AS a ON a.id = m.id"
    " ORDER BY ROUND(m.score, 1), a.published_at DESC, a.id DESC LIMIT :n"
)
# :hq is :q restricted to the headline column; tier 0 = the words are in the headline. Every h row is
# in m, so the pool's first rows are h's newest: h stops after :pool rows (a row of h beyond them counts
# as tier 1, but then :pool tier-0 rows are ahead of it and it is cut anyway).
TIERED_SEARCH_SQL = (
    "WITH m AS (SELECT rowid AS id FROM articles_fts WHERE articles_fts MATCH :q"
    "  ORDER BY rowid DESC LIMIT :window),"
    " h AS (SELECT rowid AS id FROM articles_fts WHERE articles_fts MATCH :hq"
    "  AND rowid >= (SELECT MIN(id) FROM m) ORDER BY rowid DESC LIMIT :pool),"
    " ranked AS (SELECT m.id AS id, (m.id NOT IN (SELECT id FROM h)) AS tier FROM m"
    "  ORDER BY tier, m.id DESC LIMIT :pool)"
    f" SELECT {_COLUMNS} FROM ranked JOIN articles AS a ON a.id = ranked.id"
    " ORDER BY ranked.tier, a.published_at DESC, a.id DESC LIMIT :n"
)
COUNT_MATCHES_SQL = "SELECT COUNT(*) FROM (SELECT 1 FROM articles_fts WHERE articles_fts MATCH :q LIMIT :cap)"


class ReadingRepo:
    """The queries /latest, /topic and /search run. Every method reads; none writes."""

    def __init__(
        self,
        db: Database,
        *,
        bm25_max_matches: int = BM25_MAX_MATCHES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db = db
        self.bm25_max_matches = bm25_max_matches
        self._clock = clock
        self._common: dict[tuple[str, ...], float] = {}  # words → until when they are known to be common

    async def latest(self, n: int) -> list[StoredArticle]:
        rows = await self.db.fetchall(LATEST_SQL, {"n": max(n, 0)})
        return [_row_to_article(r) for r in rows]

    async def by_id(self, article_id: int) -> StoredArticle | None:
        row = await self.db.fetchone(f"SELECT {_COLUMNS} FROM articles AS a WHERE a.id = ?", (article_id,))
        return None if row is None else _row_to_article(row)

    async def by_topic(self, topic_id: int, n: int) -> list[StoredArticle]:
        rows = await self.db.fetchall(BY_TOPIC_SQL, {"topic_id": topic_id, "n": max(n, 0)})
        return [_row_to_article(r) for r in rows]

    async def search(self, text: str, n: int) -> SearchResult:
        """Articles whose headline or dek has every word of `text`; failing that, any of them.

        Text without a single word (only punctuation, emoji, FTS operators) finds nothing.
        """
        words = search_words(text)
        if not words or n <= 0:
            return SearchResult([], words)
        rare = await self._rare(words)
        found = await self._match(words, n, any_word=False, rare=rare)
        if found or len(words) == 1:
            return SearchResult(found, words)
        any_found = await self._match(words, n, any_word=True, rare=rare)
        return SearchResult(any_found, words, all_words=False)

    async def _rare(self, words: tuple[str, ...]) -> bool:
        """True when at most `bm25_max_matches` articles have any of the words (a capped count; a "common"
        verdict is remembered COMMON_TTL seconds)."""
        key = tuple(sorted({w.casefold() for w in words}))  # FTS5 matches regardless of case
        now = self._clock()
        if self._common.get(key, 0.0) > now:
            return False
        cap = self.bm25_max_matches
        row = await self.db.fetchone(
            COUNT_MATCHES_SQL, {"q": fts_query(words, any_word=True), "cap": cap + 1}
        )
        rare = row is not None and int(row[0]) <= cap
        if not rare:
            if len(self._common) >= COMMON_REMEMBERED:
                self._common = {k: t for k, t in self._common.items() if t > now}
                if len(self._common) >= COMMON_REMEMBERED:
                    self._common.clear()
            self._common[key] = now + COMMON_TTL
        return rare

    async def _match(
        self, words: tuple[str, ...], n: int, *, any_word: bool, rare: bool
    ) -> list[StoredArticle]:
        query = fts_query(words, any_word=any_word)
        params: dict[str, object] = {"q": query, "n": n, "window": SEARCH_WINDOW}
        if rare:
            params["hw"] = HEADLINE_WEIGHT
            rows = await self.db.fetchall(SEARCH_SQL, params)
        else:
            params.update(hq=f"{{headline}} : ({query})", pool=max(SEARCH_POOL, n))
            rows = await self.db.fetchall(TIERED_SEARCH_SQL, params)
        return [_row_to_article(r) for r in rows]

    async def count_by_feed(self) -> dict[int, int]:
        """Articles stored per feed id, for /feeds (one pass over the articles' feed_id index)."""
        rows = await self.db.fetchall("SELECT feed_id, COUNT(*) FROM articles GROUP BY feed_id")
        return {int(r[0]): int(r[1]) for r in rows}

    async def posts_since(self, since: datetime) -> int:
        """Channel posts sent since `since` (the outbox_sent index), for /status."""
        row = await self.db.fetchone(
            "SELECT COUNT(*) FROM outbox WHERE state = 'sent' AND sent_at >= ?", (to_epoch(since),)
        )
        return int(row[0]) if row else 0
