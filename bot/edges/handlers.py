"""Thin command handlers: parse arguments, call a service, reply. No SQL and no formatting rules here."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import structlog
from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot.core.commands import help_text
from bot.edges.command_guard import is_admin
from bot.edges.handlers_deeplinks import DeepLinks
from bot.edges.handlers_groups import in_group

if TYPE_CHECKING:
    from bot.edges.runtime import Runtime

log = structlog.get_logger(__name__)
Ctx = ContextTypes.DEFAULT_TYPE


class Handlers:
    """Command callbacks bound to the runtime's services (a typed object, not `bot_data`)."""

    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime
        self.links = DeepLinks(runtime)

    async def start(self, update: Update, context: Ctx) -> None:
        if update.effective_message is None:
            return
        if context.args:  # a deep link: t.me/<bot>?start=<payload>
            await self.links.start(update, context.args[0])
            return
        t = self.rt.translator(update)
        invite = self.rt.channel_link()
        follow = (
            t(
                "Follow us on Telegram for the latest updates: {link}",
                link=f'<a href="{html.escape(invite)}">{html.escape(invite.removeprefix("https://"))}</a>',
            )
            if invite
            else t("Follow our channel for the latest updates.")
        )
        group = in_group(update)
        commands = help_text(
            admin=is_admin(self.rt.settings, update) and not group,
            implemented=self.rt.implemented_commands,
            group=group,
            t=t,
        )
        hello = t("👋 Hi! I post every new article from our newsroom to the channel.")
        text = f"{hello}\n{follow}\n\n{html.escape(commands, quote=False)}"
        await update.effective_message.reply_text(
            text, parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)
        )

    async def help(self, update: Update, context: Ctx) -> None:
        if update.effective_message is None:
            return
        group = in_group(update)
        await update.effective_message.reply_text(
            help_text(
                admin=is_admin(self.rt.settings, update) and not group,
                implemented=self.rt.implemented_commands,
                group=group,
                t=self.rt.translator(update),
            )
        )
