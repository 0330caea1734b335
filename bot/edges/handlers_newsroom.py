"""Editors' commands beyond review: `/breaking <article id|url>` and `/audit [n]`.

Thin: arguments are parsed here, the work is ReviewRepo's (one transaction) and the publisher's.
"""

from __future__ import annotations

from typing import Any

import structlog
from telegram import Update
from telegram.ext import Application, CommandHandler

from bot.adapters.repo_outbox import OutboxRepo
from bot.adapters.repo_review import ReviewRepo, find_article
from bot.adapters.telegram_newsroom import NewsroomSender
from bot.core.audit import audit_message
from bot.core.chat_args import ArgumentError, parse_feed_ref
from bot.core.delivery import DeliveryError
from bot.core.render import TEXT_LIMIT
from bot.core.timeutil import utcnow
from bot.core.urls import canonical_url
from bot.edges.command_guard import Ctx, actor_of, admin_only, guarded, reply_html
from bot.edges.runtime import Runtime

log = structlog.get_logger(__name__)

BREAKING_USAGE = "Usage: /breaking <article id|url>  (ids are shown by /search and /latest to admins)"
AUDIT_USAGE = "Usage: /audit [n]  (the n latest changes, at most 100)"


class NewsroomHandlers:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime
        self.reviews = ReviewRepo(runtime.db)
        self.outbox = OutboxRepo(runtime.db)

    async def breaking(self, update: Update, context: Ctx) -> None:
        ref = parse_feed_ref(" ".join(context.args or []), usage=BREAKING_USAGE)
        article_id = await find_article(self.rt.db, ref if isinstance(ref, int) else canonical_url(ref))
        channel = self.rt.settings.channel_id
        if article_id is None:
            raise ArgumentError("No such article. Use its number or its link.")
        if channel is None:
            raise ArgumentError("CHANNEL_ID is not set: there is no channel to post to.")
        actor = actor_of(update)
        assert actor.id is not None
        state, message_id = await self.reviews.breaking(
            article_id, channel, by_id=actor.id, by=actor.name.rsplit(" (", 1)[0], now=utcnow()
        )
        await self.rt.audit.record(actor, "breaking", f"article {article_id} ({state})")
        if state == "queued":
            if self.rt.publisher is not None:
                self.rt.publisher.wake()
            await reply_html(update, f"🔴 Article {article_id} goes out now as breaking news.")
            return
        if state != "posted" or message_id is None:
            await reply_html(update, f"Article {article_id} is being sent right now; it is not sent twice.")
            return
        if not self.rt.settings.pin_breaking:
            await reply_html(update, f"Article {article_id} is already posted; it is not posted twice.")
            return
        try:
            await NewsroomSender(context.bot).pin(channel, message_id)
        except DeliveryError as exc:
            raise ArgumentError(
                f"Article {article_id} is already posted, and pinning it failed: {exc}"
            ) from exc
        for old in await self.outbox.record_pin(channel, message_id, now=utcnow()):
            try:
                await NewsroomSender(context.bot).unpin(channel, old)
            except DeliveryError as exc:
                log.warning("unpin_failed", chat_id=channel, message_id=old, error=str(exc))
            await self.outbox.unpinned(channel, old, now=utcnow())
        await reply_html(
            update, f"Article {article_id} is already posted; pinned it. It is not posted twice."
        )

    async def audit(self, update: Update, context: Ctx) -> None:
        args = [a for a in (context.args or []) if a.strip()]
        if len(args) > 1 or (args and not args[0].isdigit()):
            raise ArgumentError(AUDIT_USAGE)
        count = min(max(int(args[0]) if args else 20, 1), 100)
        await reply_html(update, audit_message(await self.rt.audit.latest(count), limit=TEXT_LIMIT))


def register_newsroom_handlers(app: Application[Any, Any, Any, Any, Any, Any], runtime: Runtime) -> None:
    handlers = NewsroomHandlers(runtime)
    for name, callback in {"breaking": handlers.breaking, "audit": handlers.audit}.items():
        wrapped = guarded(name)(admin_only(runtime.settings, name)(callback))
        app.add_handler(CommandHandler(name, wrapped, block=False))
        runtime.implemented_commands.add(name)
