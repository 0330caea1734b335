"""SQL for articles: dedupe-and-store a feed's batch, queueing channel posts, topic tags and DMs atomically.

Storing an article and queueing its post happen in one transaction, so a crash never loses a post.
Reading queries for chat commands live in `repo_reading.py`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import aiosqlite

from bot.adapters.db import Database
from bot.core.models import Article
from bot.core.policy import PostPolicy, choose_posts, is_breaking
from bot.core.review import REVIEW_KEY
from bot.core.timeutil import to_epoch
from bot.core.topics import TopicMatcher, matching_topics

_CHUNK = 400


@dataclass
class StoreResult:
    new: int = 0
    updated: int = 0
    queued: int = 0  # channel posts
    dms_queued: int = 0  # subscription messages
    reviewed: int = 0  # articles waiting for an editor (REVIEW)
    new_ids: list[int] = field(default_factory=list)
    updated_ids: list[int] = field(default_factory=list)


def _chunks(items: Sequence[str], size: int = _CHUNK) -> list[Sequence[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


async def _existing(
    conn: aiosqlite.Connection, feed_id: int, guids: Sequence[str], urls: Sequence[str]
) -> tuple[dict[str, tuple[int, str, str]], dict[str, tuple[int, int, str, str]]]:
    """(by guid in this feed -> (id, headline, dek), by url anywhere -> (id, feed_id, headline, dek))."""
    by_guid: dict[str, tuple[int, str, str]] = {}
    by_url: dict[str, tuple[int, int, str, str]] = {}
    for chunk in _chunks(guids):
        marks = ",".join("?" * len(chunk))
        rows = await conn.execute_fetchall(
            f"SELECT id, guid, headline, dek FROM articles WHERE feed_id = ? AND guid IN ({marks})",
            (feed_id, *chunk),
        )
        for r in rows:
            by_guid[r[1]] = (r[0], r[2], r[3])
    for chunk in _chunks(urls):
        marks = ",".join("?" * len(chunk))
        rows = await conn.execute_fetchall(
            f"SELECT id, url, feed_id, headline, dek FROM articles WHERE url IN ({marks})", tuple(chunk)
        )
        for r in rows:
            by_url[r[1]] = (r[0], r[2], r[3], r[4])
    return by_guid, by_url


class ArticleRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def store(
        self,
        feed_id: int,
        articles: Sequence[Article],
        *,
        now: datetime,
        first_sync: bool,
        policy: PostPolicy,
        channel_id: str | None,
        matchers: Sequence[TopicMatcher] = (),
    ) -> StoreResult:
        """Insert new articles, record changed ones as updates, and queue what should be posted."""
        result = StoreResult()
        if not articles:
            return result
        now_s = to_epoch(now)
        async with self.db.transaction() as conn:
            by_guid, by_url = await _existing(
                conn, feed_id, [a.guid for a in articles], [a.url for a in articles]
            )
            fresh: dict[str, Article] = {}
            seen_urls: set[str] = set()
            updates: list[tuple[str, str, str, str | None, int, int]] = []
            for art in articles:
                if art.url in seen_urls:
                    continue
                seen_urls.add(art.url)
                hit = by_guid.get(art.guid)
                url_hit = by_url.get(art.url)
                if hit is None and url_hit is not None and url_hit[1] == feed_id:
                    # same feed, new guid for a known URL: treat as the same story
                    hit = (url_hit[0], url_hit[2], url_hit[3])
                if hit is not None:
                    article_id, headline, dek = hit
                    if (art.headline, art.dek) != (headline, dek) and art.headline:
                        updates.append(
                            (
                                art.headline,
                                art.dek,
                                json.dumps(list(art.categories)),
                                art.image,
                                now_s,
                                article_id,
                            )
                        )
                    continue
                if url_hit is not None:
                    continue  # the same story from another feed: stored once
                fresh[art.guid] = art
            if updates:
                await conn.executemany(
                    "UPDATE articles SET headline = ?, dek = ?, categories = ?, image = COALESCE(?, image),"
                    " updated_at = ? WHERE id = ?",
                    updates,
                )
                await conn.executemany(
                    "UPDATE outbox SET needs_edit = 1 WHERE article_id = ? AND state = 'sent'"
                    " AND sent_at >= ?",
                    [(u[5], now_s - int(policy.edit_window.total_seconds())) for u in updates],
                )
                result.updated = len(updates)
                result.updated_ids = [u[5] for u in updates]
            if not fresh:
                return result
            published = {g: min(a.published or now, now) for g, a in fresh.items()}
            await conn.executemany(
                "INSERT INTO articles (feed_id, guid, url, headline, dek, published_at, first_seen_at,"
                " categories, image, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        feed_id,
                        a.guid,
                        a.url,
                        a.headline,
                        a.dek,
                        to_epoch(published[g]),
                        now_s,
                        json.dumps(list(a.categories)),
                        a.image,
                        a.source,
                    )
                    for g, a in fresh.items()
                ],
            )
            ids: dict[str, int] = {}
            for chunk in _chunks(list(fresh)):
                marks = ",".join("?" * len(chunk))
                id_rows = await conn.execute_fetchall(
                    f"SELECT guid, id FROM articles WHERE feed_id = ? AND guid IN ({marks})",
                    (feed_id, *chunk),
                )
                ids.update({r[0]: r[1] for r in id_rows})
            result.new = len(ids)
            result.new_ids = list(ids.values())
            to_post = choose_posts(
                [(g, published[g]) for g in ids], first_sync=first_sync, now=now, policy=policy
            )
            review = await _review_applies(conn, feed_id, policy.review)
            groups = await _group_followers(conn) if matchers else {}
            outbox: list[tuple[int, str, int, int, int]] = []
            tags: list[tuple[int, int, int]] = []
            dm_topics: dict[int, list[int]] = {}
            reviewed: set[int] = set()
            for guid, article_id in ids.items():
                art = fresh[guid]
                posting = guid in to_post
                breaking = int(is_breaking(art.categories, policy.breaking_categories))
                before = len(outbox)
                if posting and channel_id:
                    outbox.append((article_id, channel_id, now_s, int(review), breaking))
                for m in matching_topics(matchers, art.headline, art.dek, art.categories):
                    tags.append((m.topic_id, article_id, to_epoch(published[guid])))
                    if posting:
                        if m.topic.channel_id and m.topic.channel_id != channel_id:
                            outbox.append((article_id, m.topic.channel_id, now_s, int(review), breaking))
                        for group in groups.get(m.topic_id, ()):  # never pinned there: breaking = 0
                            outbox.append((article_id, group, now_s, int(review), 0))
                        if not review:  # reviewed stories reach subscribers when an editor posts them
                            dm_topics.setdefault(m.topic_id, []).append(article_id)
                if review and len(outbox) > before:
                    reviewed.add(article_id)
            if tags:
                await conn.executemany(
                    "INSERT OR IGNORE INTO article_topics (topic_id, article_id, published_at)"
                    " VALUES (?, ?, ?)",
                    tags,
                )
            if outbox:
                await conn.executemany(
                    "INSERT OR IGNORE INTO outbox (article_id, chat_id, queued_at, review, breaking)"
                    " VALUES (?, ?, ?, ?, ?)",
                    outbox,
                )
            if reviewed:
                await conn.executemany(
                    "INSERT OR IGNORE INTO reviews (article_id, created_at) VALUES (?, ?)",
                    [(a, now_s) for a in sorted(reviewed)],
                )
            result.reviewed = len(reviewed)
            result.queued = len(outbox)
            if dm_topics:
                result.dms_queued = await _queue_dms(conn, dm_topics, now_s)
        return result

    async def count(self) -> int:
        row = await self.db.fetchone("SELECT COUNT(*) FROM articles")
        return int(row[0]) if row else 0


async def _review_applies(conn: aiosqlite.Connection, feed_id: int, default: bool) -> bool:
    """Whether this feed's new posts wait for an editor: the feed's switch, else /review's, else REVIEW."""
    rows = list(
        await conn.execute_fetchall(
            "SELECT (SELECT review FROM feeds WHERE id = ?), (SELECT value FROM bot_state WHERE key = ?)",
            (feed_id, REVIEW_KEY),
        )
    )
    feed, bot_wide = rows[0] if rows else (None, None)
    if feed is not None:
        return bool(feed)
    if bot_wide is not None:
        return bool(bot_wide == "1")
    return default


async def _group_followers(conn: aiosqlite.Connection) -> dict[int, list[str]]:
    """Topic id → the chat ids of the groups (the bot still in them) that follow it."""
    rows = await conn.execute_fetchall(
        "SELECT s.topic_id, s.chat_id FROM group_subscriptions s"
        " JOIN group_chats g ON g.chat_id = s.chat_id AND g.state = 'member' ORDER BY s.chat_id"
    )
    found: dict[int, list[str]] = {}
    for topic_id, chat_id in rows:
        found.setdefault(int(topic_id), []).append(str(chat_id))
    return found


async def _queue_dms(conn: aiosqlite.Connection, by_topic: dict[int, list[int]], now_s: int) -> int:
    """Queue one DM per subscriber and new article in their topics; returns how many were queued."""
    marks = ",".join("?" * len(by_topic))
    subs = await conn.execute_fetchall(
        f"SELECT user_id, topic_id FROM subscriptions WHERE mode = 'each' AND topic_id IN ({marks})",
        tuple(by_topic),
    )
    rows = {(user_id, article_id) for user_id, topic_id in subs for article_id in by_topic[topic_id]}
    if rows:
        await conn.executemany(
            "INSERT OR IGNORE INTO dm_outbox (user_id, article_id, queued_at) VALUES (?, ?, ?)",
            [(u, a, now_s) for u, a in sorted(rows)],
        )
    return len(rows)
