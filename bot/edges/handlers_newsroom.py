"""Editors' commands beyond review: `/breaking <article id|url>` and `/audit [n]`.

Thin: arguments are parsed here, the work is BreakingDesk's (bot/services/breaking.py) and the audit's.
"""

from __future__ import annotations

import html
from datetime import timedelta
from typing import Any

import structlog
from telegram import Update
from telegram.ext import Application, CommandHandler

from bot.adapters.repo_pins import PinRepo
from bot.adapters.repo_review import ReviewRepo, find_article
from bot.adapters.telegram_newsroom import NewsroomSender
from bot.core.audit import audit_message
from bot.core.chat_args import ArgumentError, parse_feed_ref
from bot.core.render import TEXT_LIMIT
from bot.core.urls import canonical_url
from bot.edges.command_guard import Ctx, actor_of, admin_only, guarded, reply_html
from bot.edges.runtime import Runtime
from bot.services.breaking import BreakingDesk
from bot.services.pins import Pins

log = structlog.get_logger(__name__)

BREAKING_USAGE = "Usage: /breaking <article id|url>  (ids are shown by /search and /latest to admins)"
AUDIT_USAGE = "Usage: /audit [n]  (the n latest changes, at most 100)"


class NewsroomHandlers:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime
        self.reviews = ReviewRepo(runtime.db)

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
        outcome = await self._desk().declare(
            article_id,
            channel,
            NewsroomSender(context.bot),
            by_id=actor.id,
            by=actor.name.rsplit(" (", 1)[0],
        )
        await self.rt.audit.record(actor, "breaking", f"article {article_id} ({outcome.state})")
        await reply_html(update, html.escape(outcome.reply, quote=False))

    def _desk(self) -> BreakingDesk:
        """The publisher's pins (its pacer, its expiry) when it runs in this process, else a pin record."""
        publisher = self.rt.publisher
        pins = publisher.pins if publisher is not None else None
        settings = self.rt.settings
        return BreakingDesk(
            self.reviews,
            pins or Pins(PinRepo(self.rt.db), pin_for=timedelta(hours=settings.pin_hours)),
            pin_breaking=settings.pin_breaking,
            wake=publisher.wake if publisher is not None else lambda: None,
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
        wrapped = guarded(name, runtime.translator)(
            admin_only(runtime.settings, name, runtime.translator)(callback)
        )
        app.add_handler(CommandHandler(name, wrapped, block=False))
        runtime.implemented_commands.add(name)
