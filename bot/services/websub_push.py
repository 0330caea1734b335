"""Content distribution (WebSub §7): a hub's POST checked against its subscription's secret, then ingested.

A body whose `X-Hub-Signature` matches is handed to ingest (`PushSink.ingest_pushed`: parse, normalise,
dedupe, outbox) in a task, so the hub has its 2xx at once; at most `push_concurrency` are ingested at a
time, and with `max_pending` bodies already waiting the feed is read in full instead (`fetch_soon`). A bad,
missing or unsupported signature is acknowledged and ignored, as the spec says, and logged once a minute
however many come. Which subscription a callback is, and its lifecycle, are `websub.py`'s.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

import structlog

from bot.core.errors import NewsbotError
from bot.core.websub import Signature, check_signature
from bot.core.websub_plan import Subscription
from bot.services.quiet_log import QuietLog
from bot.services.websub_ports import PushSink, SubscriptionStore, Verdict, WebSubConfig

log = structlog.get_logger(__name__)

SIGN_IN_THREAD = 256 * 1024  # bodies at least this large are hashed off the event loop


class PushReceiver:
    def __init__(
        self,
        store: SubscriptionStore,
        ingest: PushSink,
        config: WebSubConfig,
        quiet: QuietLog,
        *,
        now: Callable[[], datetime],
    ) -> None:
        self.store = store
        self.ingest = ingest
        self.config = config
        self.quiet = quiet
        self._now = now
        self._tasks: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(config.push_concurrency)

    async def receive(
        self, sub: Subscription | None, body: bytes, content_type: str | None, signature: str | None
    ) -> Verdict:
        """What a POST to `sub`'s callback comes to (None: no such callback)."""
        if sub is None:
            self.quiet.warning("websub_unknown_callback")
            return Verdict.UNKNOWN
        if len(body) >= SIGN_IN_THREAD:
            check = await asyncio.to_thread(check_signature, sub.secret, body, signature)
        else:
            check = check_signature(sub.secret, body, signature)
        if check is not Signature.VALID:
            self.quiet.warning(
                "websub_push_ignored", signature=check.value, feed_id=sub.feed_id, bytes=len(body)
            )
            return Verdict.IGNORED
        if not sub.live or sub.feed_id is None:
            return Verdict.GONE
        if len(self._tasks) >= self.config.max_pending:
            self.quiet.warning("websub_push_deferred", feed_id=sub.feed_id, pending=len(self._tasks))
            self.ingest.fetch_soon(sub.feed_id)
            return Verdict.ACCEPTED
        task = asyncio.create_task(self._ingest(sub, sub.feed_id, body, content_type))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return Verdict.ACCEPTED

    async def _ingest(self, sub: Subscription, feed_id: int, body: bytes, content_type: str | None) -> None:
        try:
            async with self._slots:
                await self.ingest.ingest_pushed(feed_id, body, content_type=content_type)
                await self.store.record_push(sub.id, self._now())
        except NewsbotError as exc:
            log.error("websub_push_failed", feed_id=feed_id, error=str(exc))
        except Exception as exc:  # a push must never take the service down
            log.exception("websub_push_failed", feed_id=feed_id, error=repr(exc))

    async def close(self) -> None:
        """Cancel pushes still being ingested (the bot is stopping; the next poll reads them)."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
