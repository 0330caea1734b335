"""Review queue wiring: button presses, editors' replies to edit prompts, and `/review [feed id] on|off`.

Thin: each handler reads the update and calls bot/services/review.py; the switches are ReviewRepo's.
"""

from __future__ import annotations

import html
from typing import Any

import structlog
from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.adapters.repo_review import ReviewRepo
from bot.core.chat_args import ArgumentError
from bot.edges.command_guard import Ctx, actor_of, admin_only, guarded, reply_html
from bot.edges.runtime import Runtime
from bot.services.review import ReviewService

log = structlog.get_logger(__name__)

REVIEW_USAGE = "Usage: /review on|off, or /review <feed id> on|off|default"
REPLY_GROUP = 5  # its own handler group: replies that are not edit answers go on to other handlers


def parse_switch(word: str, *, allow_default: bool) -> bool | None:
    lowered = word.lower()
    if lowered in ("on", "off"):
        return lowered == "on"
    if allow_default and lowered in ("default", "inherit"):
        return None
    raise ArgumentError(REVIEW_USAGE)


class ReviewHandlers:
    def __init__(self, runtime: Runtime, service: ReviewService) -> None:
        self.rt = runtime
        self.service = service
        self.repo = ReviewRepo(runtime.db)

    async def on_press(self, update: Update, context: Ctx) -> None:
        query = update.callback_query
        if query is None:
            return
        message = query.message
        chat_id = str(message.chat.id) if message is not None else ""
        message_id = message.message_id if message is not None else None
        await self.service.press(context.bot, query.id, query.data, actor_of(update), chat_id, message_id)

    async def on_reply(self, update: Update, context: Ctx) -> None:
        message = update.effective_message
        if message is None or message.reply_to_message is None or not message.text:
            return
        try:
            await self.service.reply(
                context.bot,
                str(message.chat.id),
                message.reply_to_message.message_id,
                message.text,
                actor_of(update),
                message.message_id,
            )
        except Exception as exc:
            log.exception("review_reply_failed", error=repr(exc))

    async def review(self, update: Update, context: Ctx) -> None:
        args = [a for a in (context.args or []) if a.strip()]
        actor = actor_of(update)
        if not args:
            bot_wide = await self.repo.bot_wide()
            on = self.rt.settings.review if bot_wide is None else bot_wide
            source = "REVIEW setting" if bot_wide is None else "/review"
            where = html.escape(self.rt.settings.review_chat_id or "each admin's private chat")
            state = "on" if on else "off"
            await reply_html(update, f"Review is <b>{state}</b> (from the {source}); previews go to {where}.")
            return
        if len(args) == 1:
            switch = parse_switch(args[0], allow_default=False)
            await self.repo.set_bot_wide(bool(switch))
            word = "on" if switch else "off"
            await self.rt.audit.record(actor, "review switched", word)
            await reply_html(update, f"Review is now <b>{word}</b> for new articles.")
            return
        if len(args) != 2 or not args[0].lstrip("#").isdigit():
            raise ArgumentError(REVIEW_USAGE)
        feed_id = int(args[0].lstrip("#"))
        feed_on = parse_switch(args[1], allow_default=True)
        if not await self.repo.set_feed(feed_id, feed_on):
            raise ArgumentError(f"There is no feed {feed_id}; see /feeds.")
        word = "default" if feed_on is None else ("on" if feed_on else "off")
        await self.rt.audit.record(actor, "review switched", f"feed {feed_id}: {word}")
        await reply_html(update, f"Review for feed {feed_id} is now <b>{word}</b>.")


def register_review_handlers(app: Application[Any, Any, Any, Any, Any, Any], runtime: Runtime) -> None:
    service = runtime.review
    if service is None:
        return
    handlers = ReviewHandlers(runtime, service)
    app.add_handler(CallbackQueryHandler(handlers.on_press, pattern=r"^rv\d:", block=False))
    app.add_handler(
        MessageHandler(filters.REPLY & filters.TEXT & ~filters.COMMAND, handlers.on_reply, block=False),
        group=REPLY_GROUP,
    )
    wrapped = guarded("review", runtime.translator)(
        admin_only(runtime.settings, "review", runtime.translator)(handlers.review)
    )
    app.add_handler(CommandHandler("review", wrapped, block=False))
    runtime.implemented_commands.add("review")
