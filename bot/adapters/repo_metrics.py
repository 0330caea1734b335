"""The stored numbers `/metrics` exposes, read with cheap aggregate queries (on the query-only connection).

They are the same counts `newsbot stats` shows (bot/edges/cli_stats.py: feeds, failing feeds, articles,
the outbox by state) plus private messages by state, so the two always agree; and the publish latencies of
posts sent since the last read, for the histogram.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.adapters.db import Database


@dataclass(frozen=True, slots=True)
class StoredCounts:
    feeds_enabled: int = 0
    feeds_disabled: int = 0
    feeds_failing: int = 0  # enabled, with at least one error since their last success
    articles: int = 0
    posts: dict[str, int] = field(default_factory=dict)  # outbox rows by state
    dms: dict[str, int] = field(default_factory=dict)  # subscription messages by state


class MetricsRepo:
    def __init__(self, db: Database, *, since: int = 0) -> None:
        """`since`: Unix seconds; posts sent before it are not in `new_latencies` (the bot's start: a
        restarted bot's histogram starts empty, as Prometheus expects of a new process)."""
        self.db = db
        self._seen_at = since  # the newest `sent_at` handed out by `new_latencies`, and its ids
        self._seen_ids: set[int] = set()

    async def counts(self) -> StoredCounts:
        feeds = await self.db.fetchone(
            "SELECT COALESCE(SUM(enabled = 1), 0), COALESCE(SUM(enabled = 0), 0),"
            " COALESCE(SUM(enabled = 1 AND error_count > 0), 0) FROM feeds"
        )
        articles = await self.db.fetchone("SELECT COUNT(*) FROM articles")
        posts = await self.db.fetchall("SELECT state, COUNT(*) FROM outbox GROUP BY state")
        dms = await self.db.fetchall("SELECT state, COUNT(*) FROM dm_outbox GROUP BY state")
        return StoredCounts(
            feeds_enabled=int(feeds[0]) if feeds else 0,
            feeds_disabled=int(feeds[1]) if feeds else 0,
            feeds_failing=int(feeds[2]) if feeds else 0,
            articles=int(articles[0]) if articles else 0,
            posts={str(r[0]): int(r[1]) for r in posts},
            dms={str(r[0]): int(r[1]) for r in dms},
        )

    async def new_latencies(self, *, limit: int = 10_000) -> list[int]:
        """Publish latencies (ms) of posts sent since the previous call (or `since`)."""
        rows = await self.db.fetchall(
            "SELECT id, sent_at, latency_ms FROM outbox WHERE state = 'sent' AND sent_at >= ?"
            " ORDER BY sent_at, id LIMIT ?",
            (self._seen_at, limit),
        )
        out = []
        for outbox_id, sent_at, latency in rows:
            if int(sent_at) == self._seen_at and int(outbox_id) in self._seen_ids:
                continue
            if int(sent_at) > self._seen_at:
                self._seen_at, self._seen_ids = int(sent_at), set()
            self._seen_ids.add(int(outbox_id))
            if latency is not None:
                out.append(int(latency))
        return out
