"""SQL for topics, readers' subscriptions and re-tagging stored articles when a topic's rules change.

Topic rules themselves (what matches) are `bot/core/topics.py`; tagging new articles as they are stored is
`repo_articles.py`. Re-tagging reads recent articles outside any transaction and writes each batch in its own
short transaction, so ingest and the publisher never wait long for the write lock.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import structlog

from bot.adapters.db import Database, json_strings
from bot.core.models import Topic
from bot.core.timeutil import to_epoch
from bot.core.topics import TopicMatcher

log = structlog.get_logger(__name__)

RETAG_MAX_AGE = timedelta(days=30)
RETAG_MAX_ARTICLES = 50_000
RETAG_BATCH = 1_000


@dataclass(frozen=True, slots=True)
class StoredTopic:
    id: int
    topic: Topic

    @property
    def name(self) -> str:
        return self.topic.name


def matcher_for(stored: StoredTopic) -> TopicMatcher:
    """The topic's compiled rules. A feed category equal to the topic's name or one of its keywords counts
    as a match too (the issue's rule), so both join the explicit #categories here."""
    topic = stored.topic
    categories = tuple(dict.fromkeys((*topic.categories, topic.name, *topic.keywords)))
    return TopicMatcher(replace(topic, categories=categories), stored.id)


def _match_rows(matcher: TopicMatcher, rows: list[sqlite3.Row]) -> list[tuple[int, int, int]]:
    return [
        (matcher.topic_id, r["id"], r["published_at"])
        for r in rows
        if matcher.matches(r["headline"], r["dek"], json_strings(r["categories"]))
    ]


def _row_to_topic(row: sqlite3.Row) -> StoredTopic:
    topic = Topic(
        name=row["name"],
        description=row["description"],
        keywords=json_strings(row["keywords"]),
        categories=json_strings(row["categories"]),
        channel_id=row["channel_id"],
    )
    return StoredTopic(row["id"], topic)


_COLUMNS = "id, name, description, keywords, categories, channel_id"


class TopicRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def all(self) -> list[StoredTopic]:
        rows = await self.db.fetchall(f"SELECT {_COLUMNS} FROM topics ORDER BY name COLLATE NOCASE")
        return [_row_to_topic(r) for r in rows]

    async def get(self, name: str) -> StoredTopic | None:
        """The topic called `name`, ignoring case."""
        row = await self.db.fetchone(f"SELECT {_COLUMNS} FROM topics WHERE name = ?", (name,))
        return _row_to_topic(row) if row else None

    async def matchers(self) -> list[TopicMatcher]:
        """Compiled rules of every topic, for tagging new articles as ingest stores them."""
        return [matcher_for(t) for t in await self.all()]

    async def save(self, topic: Topic, now: datetime) -> tuple[StoredTopic, bool]:
        """Insert the topic or replace the rules of the one with its name; returns (topic, created)."""
        params = {
            "name": topic.name,
            "description": topic.description,
            "keywords": json.dumps(list(topic.keywords), ensure_ascii=False),
            "categories": json.dumps(list(topic.categories), ensure_ascii=False),
            "channel_id": topic.channel_id,
            "now": to_epoch(now),
        }
        async with self.db.transaction() as conn:
            rows = list(await conn.execute_fetchall("SELECT id FROM topics WHERE name = :name", params))
            if rows:
                await conn.execute(
                    "UPDATE topics SET name = :name, description = :description, keywords = :keywords,"
                    " categories = :categories, channel_id = :channel_id WHERE id = :id",
                    {**params, "id": rows[0][0]},
                )
                topic_id, created = int(rows[0][0]), False
            else:
                cur = await conn.execute(
                    "INSERT INTO topics (name, description, keywords, categories, channel_id, created_at)"
                    " VALUES (:name, :description, :keywords, :categories, :channel_id, :now)",
                    params,
                )
                topic_id, created = int(cur.lastrowid or 0), True
                await cur.close()
        return StoredTopic(topic_id, topic), created

    async def remove(self, name: str) -> bool:
        """Delete a topic with its tags (in batches first) and subscriptions (ON DELETE CASCADE)."""
        stored = await self.get(name)
        if stored is None:
            return False
        await self._drop_tags(stored.id, RETAG_BATCH)
        return await self.db.execute_write("DELETE FROM topics WHERE id = ?", (stored.id,)) > 0

    async def _drop_tags(self, topic_id: int, batch: int) -> None:
        deleted = batch
        while deleted:  # one short transaction per batch, so other writers get the lock in between
            deleted = await self.db.execute_write(
                "DELETE FROM article_topics WHERE topic_id = :t AND article_id IN"
                " (SELECT article_id FROM article_topics WHERE topic_id = :t LIMIT :batch)",
                {"t": topic_id, "batch": batch},
            )

    async def retag(
        self,
        stored: StoredTopic,
        *,
        now: datetime,
        max_age: timedelta = RETAG_MAX_AGE,
        max_articles: int = RETAG_MAX_ARTICLES,
        batch: int = RETAG_BATCH,
    ) -> int:
        """Re-apply a topic's rules to recent articles: the newest `max_articles` of the last `max_age`.

        Older tags of the topic are dropped, so the topic never lists articles its rules no longer match.
        Returns how many articles the topic now has. Each batch is one short write transaction.
        """
        matcher = matcher_for(stored)
        await self._drop_tags(stored.id, batch)
        since = to_epoch(now - max_age)
        cursor: tuple[int, int] | None = None
        seen = tagged = 0
        while seen < max_articles:
            limit = min(batch, max_articles - seen)
            if cursor is None:
                rows = await self.db.fetchall(
                    "SELECT id, headline, dek, categories, published_at FROM articles"
                    " WHERE published_at >= ? ORDER BY published_at DESC, id DESC LIMIT ?",
                    (since, limit),
                )
            else:
                rows = await self.db.fetchall(
                    "SELECT id, headline, dek, categories, published_at FROM articles"
                    " WHERE published_at >= ? AND (published_at, id) < (?, ?)"
                    " ORDER BY published_at DESC, id DESC LIMIT ?",
                    (since, *cursor, limit),
                )
            if not rows:
                break
            seen += len(rows)
            cursor = (rows[-1]["published_at"], rows[-1]["id"])
            # Matching costs ~25 µs an article (Unicode folding): off the event loop, so replies keep flowing.
            tags = await asyncio.to_thread(_match_rows, matcher, rows)
            if tags:
                await self.db.executemany_write(
                    "INSERT OR IGNORE INTO article_topics (topic_id, article_id, published_at)"
                    " VALUES (?, ?, ?)",
                    tags,
                )
                tagged += len(tags)
        log.info("topic_retagged", topic=stored.name, scanned=seen, tagged=tagged)
        return tagged

    # -- subscriptions -------------------------------------------------------------------------------

    async def subscribe(
        self, user_id: int, topic_id: int, now: datetime, *, mode: str = "each", language: str | None = None
    ) -> bool:
        """Follow a topic, each story ("each") or once a day ("daily"); False when nothing changed.
        `language` (the reader's, resolved) is remembered for their daily digest."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "INSERT INTO subscriptions (user_id, topic_id, created_at, mode) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (user_id, topic_id) DO UPDATE SET mode = excluded.mode"
                " WHERE mode != excluded.mode",
                (user_id, topic_id, to_epoch(now), mode),
            )
            changed = cur.rowcount
            await cur.close()
            if language is not None:
                await conn.execute(
                    "INSERT INTO reader_languages (user_id, language, updated_at) VALUES (?, ?, ?)"
                    " ON CONFLICT (user_id) DO UPDATE SET language = excluded.language,"
                    " updated_at = excluded.updated_at",
                    (user_id, language, to_epoch(now)),
                )
        return changed > 0

    async def daily_topics(self, user_id: int) -> set[str]:
        rows = await self.db.fetchall(
            "SELECT t.name FROM subscriptions s JOIN topics t ON t.id = s.topic_id"
            " WHERE s.user_id = ? AND s.mode = 'daily'",
            (user_id,),
        )
        return {r[0] for r in rows}

    async def unsubscribe(self, user_id: int, topic_id: int) -> bool:
        changed = await self.db.execute_write(
            "DELETE FROM subscriptions WHERE user_id = ? AND topic_id = ?", (user_id, topic_id)
        )
        return changed > 0

    async def subscriptions(self, user_id: int) -> list[StoredTopic]:
        return await self._followed("subscriptions", "user_id", user_id)

    async def group_subscriptions(self, chat_id: int) -> list[StoredTopic]:
        """The topics a group follows (repo_groups.py keeps them), by name."""
        return await self._followed("group_subscriptions", "chat_id", chat_id)

    async def _followed(self, table: str, key: str, value: int) -> list[StoredTopic]:
        rows = await self.db.fetchall(
            "SELECT t.id, t.name, t.description, t.keywords, t.categories, t.channel_id"
            f" FROM {table} AS s JOIN topics AS t ON t.id = s.topic_id"
            f" WHERE s.{key} = ? ORDER BY t.name COLLATE NOCASE",
            (value,),
        )
        return [_row_to_topic(r) for r in rows]

    async def subscriber_count(self, topic_id: int) -> int:
        row = await self.db.fetchone("SELECT COUNT(*) FROM subscriptions WHERE topic_id = ?", (topic_id,))
        return int(row[0]) if row else 0

    async def article_count(self, topic_id: int) -> int:
        row = await self.db.fetchone("SELECT COUNT(*) FROM article_topics WHERE topic_id = ?", (topic_id,))
        return int(row[0]) if row else 0
