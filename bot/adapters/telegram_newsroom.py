"""The newsroom's Telegram calls through python-telegram-bot's `Bot`: messages with inline buttons, their
edits, callback answers, prompts asking for a reply, pins and photos; errors translated as the channel
sender translates them (bot/adapters/telegram_sender.py `translate`), so services never see PTB.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

from telegram import (
    Bot,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    ReplyParameters,
)
from telegram.constants import ParseMode

from bot.adapters.telegram_sender import chat_ref, translated
from bot.core.delivery import NotModified

__all__ = ["Buttons", "NewsroomSender"]

T = TypeVar("T")
Buttons = list[list[tuple[str, str]]]  # rows of (label, callback data)
_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def _markup(buttons: Buttons | None) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(t, callback_data=d) for t, d in row] for row in buttons]
    )


class NewsroomSender:
    def __init__(self, bot: Bot, *, timeout: float = 15.0) -> None:
        self.bot = bot
        self.timeout = timeout

    async def _call(self, chat_id: str, call: Awaitable[T]) -> T:
        return await translated(chat_id, call)

    async def send(
        self,
        chat_id: str,
        text: str,
        buttons: Buttons | None = None,
        *,
        reply_to: int | None = None,
        silent: bool = False,
    ) -> int:
        """An HTML message (no link preview) with inline buttons; returns its message id."""
        return await self._send_message(chat_id, text, _markup(buttons), reply_to=reply_to, silent=silent)

    async def prompt(self, chat_id: str, text: str, *, reply_to: int | None = None) -> int:
        """A message asking for a reply (the client opens the reply box); returns its message id."""
        markup = ForceReply(selective=True, input_field_placeholder="Headline, then the dek")
        return await self._send_message(chat_id, text, markup, reply_to=reply_to)

    async def _send_message(
        self,
        chat_id: str,
        text: str,
        markup: InlineKeyboardMarkup | ForceReply | None,
        *,
        reply_to: int | None,
        silent: bool = False,
    ) -> int:
        reply = ReplyParameters(reply_to, allow_sending_without_reply=True) if reply_to else None
        message = await self._call(
            chat_id,
            self.bot.send_message(
                chat_ref(chat_id),
                text,
                parse_mode=ParseMode.HTML,
                link_preview_options=_NO_PREVIEW,
                reply_markup=markup,
                reply_parameters=reply,
                disable_notification=silent,
                read_timeout=self.timeout,
            ),
        )
        return message.message_id

    async def send_photo(self, chat_id: str, photo: str, caption: str) -> int:
        message = await self._call(
            chat_id,
            self.bot.send_photo(
                chat_ref(chat_id),
                photo,
                caption=caption,
                parse_mode=ParseMode.HTML,
                read_timeout=self.timeout,
            ),
        )
        return message.message_id

    async def edit(self, chat_id: str, message_id: int, text: str, buttons: Buttons | None = None) -> None:
        """Replace a message's text and buttons (None removes them); "not modified" counts as done."""
        try:
            await self._call(
                chat_id,
                self.bot.edit_message_text(
                    text,
                    chat_id=chat_ref(chat_id),
                    message_id=message_id,
                    parse_mode=ParseMode.HTML,
                    link_preview_options=_NO_PREVIEW,
                    reply_markup=_markup(buttons),
                    read_timeout=self.timeout,
                ),
            )
        except NotModified:
            return

    async def answer(self, query_id: str, text: str, *, alert: bool = False) -> None:
        await self._call(
            "callback", self.bot.answer_callback_query(query_id, text=text[:200], show_alert=alert)
        )

    async def pin(self, chat_id: str, message_id: int) -> None:
        await self._call(
            chat_id, self.bot.pin_chat_message(chat_ref(chat_id), message_id, disable_notification=True)
        )

    async def unpin(self, chat_id: str, message_id: int) -> None:
        await self._call(chat_id, self.bot.unpin_chat_message(chat_ref(chat_id), message_id=message_id))
