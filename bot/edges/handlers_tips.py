"""Reader tips and blocking wiring: `/tip` (text, or a photo captioned /tip), editors' replies to tips,
`/block` and `/unblock`, and the gate that ignores blocked readers before any other handler runs.

Thin: the work is bot/services/tips.py's.
"""

from __future__ import annotations

import html
from typing import Any

import structlog
from telegram import Update
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.core.chat_args import ArgumentError
from bot.core.i18n import N_
from bot.core.tips import tip_text
from bot.edges.command_guard import Ctx, actor_of, admin_only, guarded, reply_html, user_id
from bot.edges.runtime import Runtime
from bot.services.tips import TipService, Tipster

log = structlog.get_logger(__name__)

BLOCK_USAGE = "Usage: /block <user id>  (the id is in the tip's header)"
UNBLOCK_USAGE = "Usage: /unblock <user id>"
PRIVATE_ONLY = N_("Send tips in a private chat with me, please.")
GATE_GROUP = -2  # before the command rate limit (-1)
REPLY_GROUP = 6  # its own group: review's edit replies (group 5) still run
_CAPTION_TIP = filters.CaptionRegex(r"^/tip(@\w+)?(\s|$)")


class TipHandlers:
    def __init__(self, runtime: Runtime, service: TipService) -> None:
        self.rt = runtime
        self.service = service

    async def gate(self, update: Update, context: Ctx) -> None:
        uid = user_id(update)
        if uid is not None and self.service.is_blocked(uid):
            log.info("blocked_user_ignored", user_id=uid)
            raise ApplicationHandlerStop

    async def tip(self, update: Update, context: Ctx) -> None:
        message = update.effective_message
        user = update.effective_user
        if message is None or user is None:
            return
        if message.chat.type != "private":
            await reply_html(update, html.escape(self.rt.translator(update)(PRIVATE_ONLY), quote=False))
            return
        photo = message.photo[-1].file_id if message.photo else None
        text = tip_text((message.caption if photo else message.text) or "")
        reader = Tipster(user.id, user.full_name or "Reader", user.username)
        answer = await self.service.submit(context.bot, reader, text, photo)
        if answer is not None:
            await reply_html(update, html.escape(self.rt.translator(update).render(answer), quote=False))

    async def on_reply(self, update: Update, context: Ctx) -> None:
        message = update.effective_message
        if message is None or message.reply_to_message is None:
            return
        photo = message.photo[-1].file_id if message.photo else None
        text = (message.caption if photo else message.text) or ""
        if not text and photo is None:
            return
        try:
            confirmation = await self.service.answer(
                context.bot,
                str(message.chat.id),
                message.reply_to_message.message_id,
                text,
                actor_of(update),
                photo=photo,
            )
        except Exception as exc:
            log.exception("tip_answer_failed", error=repr(exc))
            return
        if confirmation is not None:
            await message.reply_text(confirmation, do_quote=True)

    async def block(self, update: Update, context: Ctx) -> None:
        said = await self.service.block(actor_of(update), _user_arg(context, BLOCK_USAGE))
        await reply_html(update, html.escape(said, quote=False))

    async def unblock(self, update: Update, context: Ctx) -> None:
        await reply_html(
            update, await self.service.unblock(actor_of(update), _user_arg(context, UNBLOCK_USAGE))
        )


def _user_arg(context: Ctx, usage: str) -> int:
    args = [a for a in (context.args or []) if a.strip()]
    if len(args) != 1 or not args[0].isdigit() or not 0 < int(args[0]) < 10**15:
        raise ArgumentError(usage)
    return int(args[0])


def register_tip_handlers(app: Application[Any, Any, Any, Any, Any, Any], runtime: Runtime) -> None:
    service = runtime.tips
    if service is None:
        return
    handlers = TipHandlers(runtime, service)
    app.add_handler(TypeHandler(Update, handlers.gate), group=GATE_GROUP)
    app.add_handler(CommandHandler("tip", guarded("tip", runtime.translator)(handlers.tip), block=False))
    app.add_handler(
        MessageHandler(
            filters.PHOTO & _CAPTION_TIP, guarded("tip", runtime.translator)(handlers.tip), block=False
        )
    )
    app.add_handler(
        MessageHandler(
            filters.REPLY & ((filters.TEXT & ~filters.COMMAND) | filters.PHOTO),
            handlers.on_reply,
            block=False,
        ),
        group=REPLY_GROUP,
    )
    for name, callback in {"block": handlers.block, "unblock": handlers.unblock}.items():
        wrapped = guarded(name, runtime.translator)(
            admin_only(runtime.settings, name, runtime.translator)(callback)
        )
        app.add_handler(CommandHandler(name, wrapped, block=False))
    runtime.implemented_commands.update({"tip", "block", "unblock"})
