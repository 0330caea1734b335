"""SQL for the channel outbox and channel pause state: claim, record outcomes, recover, pause, stats.

Every state change is one short transaction and none awaits the network; deciding what to do after a
send is the publisher's job (bot/services/publisher.py), queueing posts is ArticleRepo.store's.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime

from bot.adapters.db import Database, json_strings
from bot.adapters.repo_groups import end_group, group_number, move_group
from bot.core.delivery import OutboxItem
from bot.core.status import PausedChannel, PublishStats, UnknownPost, percentile
from bot.core.timeutil import from_epoch, to_epoch

_PAUSE_KEY = "posting_paused"
# The database's wall clock in milliseconds (SQLite 3.40 has no unixepoch('subsec')).
_NOW_MS = "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)"
# An editor's headline/dek (review Edit) replaces the article's in this post, corrections included.
_ITEM_SQL = (
    "SELECT o.id, o.article_id, o.chat_id, o.attempts, o.message_id, o.sent_text, o.queued_at, o.sent_at,"
    " COALESCE(o.headline_edit, a.headline) AS headline, COALESCE(o.dek_edit, a.dek) AS dek,"
    " a.url, a.source, a.categories, o.breaking, o.silent,"
    # the topic a "Follow" button offers: a topic channel's own topic, else the first by name
    " COALESCE((SELECT t.name FROM article_topics x JOIN topics t ON t.id = x.topic_id"
    "   WHERE x.article_id = o.article_id AND t.channel_id = o.chat_id),"
    "  (SELECT MIN(t.name) FROM article_topics x JOIN topics t ON t.id = x.topic_id"
    "   WHERE x.article_id = o.article_id)) AS topic"
    " FROM outbox o JOIN articles a ON a.id = o.article_id"
)
# The post as it should read now: used to tell whether a sent post needs a correction.
_SAME_AS_SENT = (
    "EXISTS (SELECT 1 FROM articles a WHERE a.id = outbox.article_id"
    " AND COALESCE(outbox.headline_edit, a.headline) = ? AND COALESCE(outbox.dek_edit, a.dek) = ?)"
)
_NOT_PAUSED = "NOT EXISTS (SELECT 1 FROM channels c WHERE c.chat_id = o.chat_id AND c.paused = 1)"


def _item(row: sqlite3.Row) -> OutboxItem:
    queued_at = from_epoch(row["queued_at"])
    assert queued_at is not None
    return OutboxItem(
        id=row["id"],
        article_id=row["article_id"],
        chat_id=row["chat_id"],
        attempts=row["attempts"],
        headline=row["headline"],
        dek=row["dek"],
        url=row["url"],
        source=row["source"],
        categories=json_strings(row["categories"]),
        queued_at=queued_at,
        message_id=row["message_id"],
        sent_text=row["sent_text"],
        sent_at=from_epoch(row["sent_at"]),
        breaking=bool(row["breaking"]),
        silent=bool(row["silent"]),
        topic=row["topic"],
    )


class OutboxRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- posts ---------------------------------------------------------------------------------------------

    async def recover_in_flight(self, *, resend: bool, now: datetime) -> list[OutboxItem]:
        """Rows left in `sending` by a process that died mid-send: re-queue them, or mark them `unknown`."""
        reason = (
            "in flight when the bot stopped; sent again (INFLIGHT_POLICY=resend)"
            if resend
            else "in flight when the bot stopped; maybe delivered, not re-sent (INFLIGHT_POLICY=skip)"
        )
        if await self.db.fetchone("SELECT 1 FROM outbox WHERE state = 'sending' LIMIT 1") is None:
            return []  # the usual case: no write, no lock taken at start-up
        async with self.db.transaction() as conn:
            rows = await conn.execute_fetchall(f"{_ITEM_SQL} WHERE o.state = 'sending' ORDER BY o.id")
            await conn.execute(
                "UPDATE outbox SET state = ?, not_before = 0, last_error = ?, last_error_at = ?"
                " WHERE state = 'sending'",
                ("queued" if resend else "unknown", reason, to_epoch(now)),
            )
        return [_item(r) for r in rows]

    async def due_heads(
        self, now: datetime, limit: int = 100, *, breaking_only: bool = False
    ) -> list[OutboxItem]:
        """The head of each unpaused chat's queue, if it is due; breaking heads first, then oldest first.

        A chat's head is its oldest breaking post, else its oldest post; rows waiting for an editor
        (review = 1) are not in the queue. A chat whose head waits for a retry waits as a whole: posts go
        out in order per chat. `breaking_only` (quiet hours, hold mode) leaves the other posts queued.
        """
        rows = await self.db.fetchall(
            f"{_ITEM_SQL} WHERE o.id IN (SELECT (SELECT q.id FROM outbox q WHERE q.chat_id = c.chat_id"
            "  AND q.state = 'queued' AND q.review = 0 ORDER BY q.breaking DESC, q.id LIMIT 1)"
            "  FROM (SELECT DISTINCT chat_id FROM outbox WHERE state = 'queued' AND review = 0) c)"
            f" AND o.not_before <= ? AND {_NOT_PAUSED} AND (o.breaking = 1 OR NOT ?)"
            " ORDER BY o.breaking DESC, o.id LIMIT ?",
            (to_epoch(now), breaking_only, limit),
        )
        return [_item(r) for r in rows]

    async def get(self, outbox_id: int) -> OutboxItem | None:
        row = await self.db.fetchone(f"{_ITEM_SQL} WHERE o.id = ?", (outbox_id,))
        return _item(row) if row is not None else None

    async def state_of(self, outbox_id: int) -> str | None:
        row = await self.db.fetchone("SELECT state FROM outbox WHERE id = ?", (outbox_id,))
        return str(row[0]) if row is not None else None

    async def claim(self, outbox_id: int) -> bool:
        """queued → sending, attempts + 1, committed before the network call. False if not queued."""
        changed = await self.db.execute_write(
            "UPDATE outbox SET state = 'sending', attempts = attempts + 1 WHERE id = ? AND state = 'queued'",
            (outbox_id,),
        )
        return changed == 1

    async def mark_sent(
        self, outbox_id: int, *, message_id: int, text: str, headline: str, dek: str, now: datetime
    ) -> int | None:
        """sending → sent with the message id and text; returns the publish latency in ms.

        `headline`/`dek` are what was rendered: if the article changed meanwhile, the post needs an edit.
        """
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE outbox SET state = 'sent', message_id = ?, sent_text = ?, sent_at = ?,"
                f" not_before = 0, latency_ms = MAX(0, {_NOW_MS} - COALESCE(queued_ms,"
                " (SELECT first_seen_at * 1000 FROM articles WHERE id = outbox.article_id))),"
                f" needs_edit = NOT {_SAME_AS_SENT} WHERE id = ?",
                (message_id, text, to_epoch(now), headline, dek, outbox_id),
            )
            rows = list(
                await conn.execute_fetchall("SELECT latency_ms FROM outbox WHERE id = ?", (outbox_id,))
            )
        return int(rows[0][0]) if rows and rows[0][0] is not None else None

    async def requeue(self, outbox_id: int, *, not_before: datetime, error: str, now: datetime) -> None:
        """sending → queued, not to be tried again before `not_before`."""
        await self.db.execute_write(
            "UPDATE outbox SET state = 'queued', not_before = ?, last_error = ?, last_error_at = ?"
            " WHERE id = ? AND state = 'sending'",
            (to_epoch(not_before), error, to_epoch(now), outbox_id),
        )

    async def finish(self, outbox_id: int, state: str, *, reason: str, now: datetime) -> None:
        """sending → `failed` (never retried) or `unknown` (maybe delivered, not re-sent), with the reason."""
        if state not in ("failed", "unknown", "skipped"):
            raise ValueError(f"not a final state: {state}")
        await self.db.execute_write(
            "UPDATE outbox SET state = ?, last_error = ?, last_error_at = ?"
            " WHERE id = ? AND state = 'sending'",
            (state, reason, to_epoch(now), outbox_id),
        )

    async def move_chat(self, old: str, new: str, *, now: datetime) -> None:
        """Queued posts for a migrated group go to its new id; a post already queued there is skipped."""
        async with self.db.transaction() as conn:
            old_group, new_group = group_number(old), group_number(new)
            if old_group is not None and new_group is not None:
                await move_group(conn, old_group, new_group, now)  # a followed group keeps its topics
            await conn.execute(
                "UPDATE OR IGNORE outbox SET chat_id = ? WHERE chat_id = ? AND state = 'queued'", (new, old)
            )
            await conn.execute(
                "UPDATE outbox SET state = 'skipped', last_error = ?, last_error_at = ?"
                " WHERE chat_id = ? AND state = 'queued'",
                (f"chat migrated to {new}, already queued there", to_epoch(now), old),
            )

    # -- corrections ---------------------------------------------------------------------------------------

    async def due_edits(self, now: datetime, limit: int = 20) -> list[OutboxItem]:
        """Sent posts whose article changed (needs_edit), due and in unpaused chats, oldest first."""
        rows = await self.db.fetchall(
            f"{_ITEM_SQL} WHERE o.needs_edit = 1 AND o.state = 'sent' AND o.not_before <= ?"
            f" AND {_NOT_PAUSED} ORDER BY o.id LIMIT ?",
            (to_epoch(now), limit),
        )
        return [_item(r) for r in rows]

    async def edit_done(self, outbox_id: int, *, text: str | None, headline: str, dek: str) -> None:
        """The post shows `text` now (None: unchanged); the flag stays if the article changed again."""
        await self.db.execute_write(
            "UPDATE outbox SET sent_text = COALESCE(?, sent_text), not_before = 0,"
            f" needs_edit = NOT {_SAME_AS_SENT} WHERE id = ?",
            (text, headline, dek, outbox_id),
        )

    async def edit_later(self, outbox_id: int, *, not_before: datetime, error: str, now: datetime) -> None:
        await self.db.execute_write(
            "UPDATE outbox SET not_before = ?, last_error = ?, last_error_at = ? WHERE id = ?",
            (to_epoch(not_before), error, to_epoch(now), outbox_id),
        )

    async def edit_failed(self, outbox_id: int, *, reason: str, now: datetime) -> None:
        await self.db.execute_write(
            "UPDATE outbox SET needs_edit = 0, not_before = 0, last_error = ?, last_error_at = ?"
            " WHERE id = ?",
            (reason, to_epoch(now), outbox_id),
        )

    # -- pausing -------------------------------------------------------------------------------------------

    async def pause_channel(self, chat_id: str, reason: str, *, now: datetime) -> bool:
        """Pause one chat (after a 403); admins are to be told once per pause (see `unnotified_pauses`).

        A group that follows topics is not paused but ended (the bot was removed: its subscriptions go and
        nothing more is sent there, repo_groups.end_group); then False.
        """
        group = group_number(chat_id)
        async with self.db.transaction() as conn:
            if group is not None and await end_group(conn, group, reason, now):
                return False
            await conn.execute(
                "INSERT INTO channels (chat_id, paused, paused_reason, paused_at, notified)"
                " VALUES (?, 1, ?, ?, 0)"
                " ON CONFLICT (chat_id) DO UPDATE SET paused_reason = excluded.paused_reason,"
                " notified = CASE WHEN channels.paused = 1 THEN channels.notified ELSE 0 END,"
                " paused_at = CASE WHEN channels.paused = 1 THEN channels.paused_at"
                "  ELSE excluded.paused_at END, paused = 1",
                (chat_id, reason, to_epoch(now)),
            )
        return True

    async def unnotified_pauses(self) -> list[PausedChannel]:
        rows = await self.db.fetchall(
            "SELECT chat_id, paused_reason, paused_at FROM channels WHERE paused = 1 AND notified = 0"
        )
        return [PausedChannel(r[0], r[1] or "", from_epoch(r[2])) for r in rows]

    async def mark_notified(self, chat_id: str) -> None:
        await self.db.execute_write("UPDATE channels SET notified = 1 WHERE chat_id = ?", (chat_id,))

    async def paused_channels(self) -> list[PausedChannel]:
        rows = await self.db.fetchall(
            "SELECT chat_id, paused_reason, paused_at FROM channels WHERE paused = 1 ORDER BY chat_id"
        )
        return [PausedChannel(r[0], r[1] or "", from_epoch(r[2])) for r in rows]

    async def pause_all(self, reason: str, *, now: datetime) -> None:
        """The global pause (admin /pause): no chat gets posts or edits until `resume_all`."""
        value = json.dumps({"reason": reason, "since": to_epoch(now)})
        await self.db.execute_write(
            "INSERT INTO bot_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = ?",
            (_PAUSE_KEY, value, value),
        )

    async def global_pause(self) -> PausedChannel | None:
        """The global pause as (chat_id "*", reason, since), or None when posting is on."""
        row = await self.db.fetchone("SELECT value FROM bot_state WHERE key = ?", (_PAUSE_KEY,))
        if row is None:
            return None
        try:
            data = json.loads(row[0])
            return PausedChannel("*", str(data.get("reason") or "paused"), from_epoch(data.get("since")))
        except (ValueError, AttributeError, TypeError, OverflowError):
            return PausedChannel("*", str(row[0]))

    async def is_paused(self, chat_id: str) -> bool:
        row = await self.db.fetchone(
            "SELECT EXISTS (SELECT 1 FROM bot_state WHERE key = ?)"
            " OR EXISTS (SELECT 1 FROM channels WHERE chat_id = ? AND paused = 1)",
            (_PAUSE_KEY, chat_id),
        )
        return bool(row and row[0])

    async def resume_all(self) -> list[str]:
        """Lift the global pause and every channel's (403) pause; returns what was paused ("*" = global)."""
        async with self.db.transaction() as conn:
            rows = await conn.execute_fetchall(
                "SELECT chat_id FROM channels WHERE paused = 1 ORDER BY chat_id"
            )
            was = [str(r[0]) for r in rows]
            cur = await conn.execute("DELETE FROM bot_state WHERE key = ?", (_PAUSE_KEY,))
            if cur.rowcount:
                was.insert(0, "*")
            await cur.close()
            await conn.execute(
                "UPDATE channels SET paused = 0, paused_reason = NULL, paused_at = NULL, notified = 0"
                " WHERE paused = 1"
            )
        return was

    # -- numbers -------------------------------------------------------------------------------------------

    async def stats(self, *, sample: int = 500, unknown_shown: int = 5) -> PublishStats:
        """Counts by state, latency p50/p99 over the last `sample` posts, pauses, unknowns, last error."""
        by_state = await self.db.fetchall("SELECT state, COUNT(*) FROM outbox GROUP BY state")
        latencies = [
            int(r[0])
            for r in await self.db.fetchall(
                "SELECT latency_ms FROM outbox WHERE state = 'sent' AND latency_ms IS NOT NULL"
                " ORDER BY sent_at DESC, id DESC LIMIT ?",
                (sample,),
            )
        ]
        edits = await self.db.fetchone("SELECT COUNT(*) FROM outbox WHERE needs_edit = 1 AND state = 'sent'")
        unknown = await self.db.fetchall(
            "SELECT o.id, o.chat_id, a.headline, a.url, o.last_error_at FROM outbox o"
            " JOIN articles a ON a.id = o.article_id WHERE o.state = 'unknown' ORDER BY o.id DESC LIMIT ?",
            (unknown_shown,),
        )
        error = await self.db.fetchone(
            "SELECT last_error, last_error_at FROM outbox WHERE last_error_at IS NOT NULL"
            " ORDER BY last_error_at DESC, id DESC LIMIT 1"
        )
        paused = await self.global_pause()
        return PublishStats(
            counts={str(r[0]): int(r[1]) for r in by_state},
            latency_p50_ms=percentile(latencies, 50),
            latency_p99_ms=percentile(latencies, 99),
            latency_samples=len(latencies),
            pending_edits=int(edits[0]) if edits else 0,
            paused_all=paused.reason if paused else None,
            paused_channels=tuple(await self.paused_channels()),
            unknown=tuple(UnknownPost(r[0], r[1], r[2], r[3], from_epoch(r[4])) for r in unknown),
            last_error=error[0] if error else None,
            last_error_at=from_epoch(error[1]) if error else None,
        )
