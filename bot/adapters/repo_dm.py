"""SQL for the subscription DM queue (dm_outbox): what to send next, what was sent, readers who left.

Rows are queued by `ArticleRepo.store` in the same transaction as their article; pacing and error handling
are the fan-out service's (`bot/services/fanout.py`). Each write here is one short transaction.
"""

from __future__ import annotations

from datetime import datetime

from bot.adapters.db import Database, json_strings
from bot.core.dm import PendingDM
from bot.core.models import StoredArticle
from bot.core.timeutil import from_epoch, to_epoch


class DMRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def pending(self, limit: int = 200, *, per_reader: int = 2) -> list[PendingDM]:
        """The oldest queued DMs with their articles and the reader's matching topics.

        At most `per_reader` per reader, so one reader with a long queue (sent a message a second) never
        holds up the others' first messages.
        """
        rows = await self.db.fetchall(
            "SELECT d.id, d.user_id, d.queued_at, a.id AS article_id, a.feed_id, a.url, a.headline, a.dek,"
            " a.published_at, a.first_seen_at, a.categories, a.image, a.source,"
            " (SELECT json_group_array(t.name) FROM article_topics AS at"
            "   JOIN subscriptions AS s ON s.topic_id = at.topic_id AND s.user_id = d.user_id"
            "   JOIN topics AS t ON t.id = at.topic_id WHERE at.article_id = d.article_id) AS topics"
            " FROM (SELECT id, user_id, article_id, queued_at,"
            "       ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY id) AS nth"
            "       FROM dm_outbox WHERE state = 'queued') AS d"
            " JOIN articles AS a ON a.id = d.article_id"
            " WHERE d.nth <= ? ORDER BY d.id LIMIT ?",
            (per_reader, limit),
        )
        out: list[PendingDM] = []
        for r in rows:
            published = from_epoch(r["published_at"])
            queued = from_epoch(r["queued_at"])
            assert published is not None
            assert queued is not None
            article = StoredArticle(
                id=r["article_id"],
                feed_id=r["feed_id"],
                url=r["url"],
                headline=r["headline"],
                dek=r["dek"],
                published=published,
                categories=json_strings(r["categories"]),
                image=r["image"],
                source=r["source"],
                first_seen=from_epoch(r["first_seen_at"]),
            )
            topics = tuple(sorted(json_strings(r["topics"]), key=str.casefold))
            out.append(PendingDM(r["id"], r["user_id"], article, topics, queued))
        return out

    async def mark_sent(self, dm_id: int, now: datetime) -> None:
        await self.db.execute_write(
            "UPDATE dm_outbox SET state = 'sent', sent_at = ?, last_error = NULL WHERE id = ?",
            (to_epoch(now), dm_id),
        )

    async def mark_failed(self, dm_id: int, error: str) -> None:
        await self.db.execute_write(
            "UPDATE dm_outbox SET state = 'failed', last_error = ? WHERE id = ?", (error[:500], dm_id)
        )

    async def note_error(self, dm_id: int, error: str) -> None:
        """Keep the row queued but remember why the last try failed."""
        await self.db.execute_write("UPDATE dm_outbox SET last_error = ? WHERE id = ?", (error[:500], dm_id))

    async def drop_reader(self, user_id: int, reason: str) -> tuple[int, int]:
        """A reader who blocked the bot: unsubscribe them from everything and fail their queued DMs.

        Returns (subscriptions removed, queued messages dropped), in one transaction.
        """
        async with self.db.transaction() as conn:
            cur = await conn.execute("DELETE FROM subscriptions WHERE user_id = ?", (user_id,))
            subs = cur.rowcount
            await cur.close()
            cur = await conn.execute(
                "UPDATE dm_outbox SET state = 'failed', last_error = ?"
                " WHERE user_id = ? AND state = 'queued'",
                (reason[:500], user_id),
            )
            dropped = cur.rowcount
            await cur.close()
        return subs, dropped

    async def expire(self, older_than: datetime) -> int:
        """Fail queued DMs queued before `older_than` (the bot was down): old news is not worth a ping."""
        return await self.db.execute_write(
            "UPDATE dm_outbox SET state = 'failed', last_error = 'expired'"
            " WHERE state = 'queued' AND queued_at < ?",
            (to_epoch(older_than),),
        )

    async def counts(self) -> dict[str, int]:
        rows = await self.db.fetchall("SELECT state, COUNT(*) FROM dm_outbox GROUP BY state")
        return {str(r[0]): int(r[1]) for r in rows}
