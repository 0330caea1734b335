"""Corrections: a sent post whose article's headline or dek changed is edited in place (editMessageText).

ArticleRepo flags the outbox row (needs_edit) when the article changes within the edit window; the
publisher picks due edits and paces them with posts; this module does one edit and records what happened.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import structlog

from bot.core.delivery import (
    BadMarkup,
    ChatForbidden,
    DeliveryError,
    DeliveryUnknown,
    FloodWait,
    OutboxItem,
    TransientError,
)
from bot.core.pacing import Pacer
from bot.core.render import RenderError
from bot.services.outbox_ports import OutboxStore, PublisherConfig, Sender, not_before

log = structlog.get_logger(__name__)


class Corrector:
    """Edits posts through the sender; shares the publisher's pacer so edits count against the budget."""

    def __init__(
        self,
        store: OutboxStore,
        config: PublisherConfig,
        pacer: Pacer,
        *,
        clock: Callable[[], datetime],
        monotonic: Callable[[], float],
    ) -> None:
        self.store = store
        self.config = config
        self.pacer = pacer
        self._clock = clock
        self._mono = monotonic

    async def edit(self, sender: Sender, item: OutboxItem) -> None:
        """Edit one sent post to its article's current text; every outcome is recorded, none raised."""
        now = self._clock()
        bound = log.bind(outbox_id=item.id, article_id=item.article_id, chat_id=item.chat_id)
        if item.message_id is None or item.sent_at is None or now - item.sent_at > self.config.edit_window:
            await self.store.edit_done(item.id, text=None, headline=item.headline, dek=item.dek)
            bound.info("edit_skipped", reason="outside the edit window")
            return
        try:
            text, html = self.config.render(item), True
        except RenderError as exc:
            await self.store.edit_failed(item.id, reason=str(exc), now=now)
            return
        if text == item.sent_text:
            await self.store.edit_done(item.id, text=None, headline=item.headline, dek=item.dek)
            return
        message_id = item.message_id
        try:
            try:
                await self._edit_once(sender, item, message_id, text, html=True)
            except BadMarkup:
                text, html = self.config.plain(item), False
                await self._edit_once(sender, item, message_id, text, html=False)
        except FloodWait as exc:
            self.pacer.per_chat.block(item.chat_id, self._mono() + exc.retry_after)
            await self.store.edit_later(
                item.id, not_before=not_before(now, exc.retry_after), error=str(exc), now=now
            )
            bound.warning("edit_flood_wait", retry_after=exc.retry_after)
        except (TransientError, DeliveryUnknown) as exc:  # an edit is idempotent: retrying is safe
            wait = self.config.edit_retry.total_seconds()
            await self.store.edit_later(item.id, not_before=not_before(now, wait), error=str(exc), now=now)
            bound.warning("edit_retry", error=exc.reason)
        except ChatForbidden as exc:
            if await self.store.pause_channel(item.chat_id, exc.reason, now=now):
                bound.error("channel_paused", reason=exc.reason)
            else:
                bound.warning("group_ended", reason=exc.reason)
        except DeliveryError as exc:
            await self.store.edit_failed(item.id, reason=exc.reason, now=now)
            bound.error("edit_failed", reason=exc.reason)
        except Exception as exc:  # noqa: BLE001 - a bug: try again later rather than stop
            bound.exception("edit_crashed", error=repr(exc))
            wait = self.config.edit_retry.total_seconds()
            await self.store.edit_later(item.id, not_before=not_before(now, wait), error=repr(exc), now=now)
        else:
            await self.store.edit_done(item.id, text=text, headline=item.headline, dek=item.dek)
            bound.info("post_edited", message_id=item.message_id, plain=not html)

    async def _edit_once(
        self, sender: Sender, item: OutboxItem, message_id: int, text: str, *, html: bool
    ) -> None:
        """One editMessageText, counted against the chat's budget when it ends (Telegram counts edits)."""
        try:
            button = self.config.button(item, sender.username)
            await sender.edit(item.chat_id, message_id, text, html=html, preview_url=item.url, button=button)
        finally:
            self.pacer.record(item.chat_id, self._mono())
