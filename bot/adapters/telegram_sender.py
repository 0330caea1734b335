"""Channel posts, corrections and admin notices through python-telegram-bot's `Bot`, errors translated.

Every PTB error becomes one of `bot.core.delivery`'s exceptions here (`raise … from e`), so the publisher
never sees python-telegram-bot. What to do about each error is the publisher's decision, not this module's.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Awaitable
from datetime import timedelta
from typing import Literal, TypeVar

import aiohttp
import httpx
import structlog
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bot.core.delivery import (
    BadMarkup,
    ChatForbidden,
    ChatMoved,
    DeliveryUnknown,
    FloodWait,
    NotModified,
    Rejected,
    TooLong,
    TransientError,
)

log = structlog.get_logger(__name__)
T = TypeVar("T")
LinkPreview = Literal["off", "small", "large"]

# The request reached Telegram but no answer came back: the message may have been posted. For both
# transports: the bot's aiohttp one (bot/adapters/telegram_request.py) and PTB's default httpx one.
_MAYBE_DELIVERED = (
    httpx.ReadTimeout,
    httpx.ReadError,
    httpx.RemoteProtocolError,
    aiohttp.SocketTimeoutError,  # no answer within the read timeout
    aiohttp.ServerDisconnectedError,
    aiohttp.ClientPayloadError,
    TimeoutError,  # aiohttp's overall timeout: where it struck is unknown, so assume it was sent
)
# ...except these, which never sent anything (no connection, or none free in the pool in time).
_NOT_SENT = (aiohttp.ConnectionTimeoutError, aiohttp.ClientConnectorError)
_NUMERIC_CHAT = re.compile(r"^-?\d+$")
# 400s meaning "not our chat to post in" (rights, or a wrong/unknown CHANNEL_ID): pause, never drop.
_NO_RIGHTS = (
    "need administrator rights",
    "not enough rights",
    "have no rights",
    "chat_write_forbidden",
    "chat not found",
)


def url_button(button: tuple[str, str] | None) -> InlineKeyboardMarkup | None:
    """One URL button (label, url) as reply_markup; None for none."""
    if button is None:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(button[0], url=button[1])]])


def chat_ref(chat_id: str) -> int | str:
    """A numeric chat id as int, an @name as is."""
    return int(chat_id) if _NUMERIC_CHAT.match(chat_id) else chat_id


def _retry_after_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB warns about the attribute's type change unless PTB_TIMEDELTA
        warnings.simplefilter("ignore")
        value: int | timedelta = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def translate(exc: TelegramError, chat_id: str) -> Exception:
    """The project's exception for a python-telegram-bot error on a call for `chat_id`."""
    message = exc.message
    lowered = message.lower()
    if isinstance(exc, RetryAfter):
        return FloodWait(chat_id, _retry_after_seconds(exc))
    if isinstance(exc, ChatMigrated):
        return ChatMoved(chat_id, str(exc.new_chat_id))
    if isinstance(exc, Forbidden):
        return ChatForbidden(chat_id, message)
    if isinstance(exc, BadRequest):
        if "can't parse entities" in lowered or "can't find end" in lowered:
            return BadMarkup(chat_id, message)
        if "too long" in lowered:
            return TooLong(chat_id, message)
        if "message is not modified" in lowered:
            return NotModified(chat_id, message)
        if any(phrase in lowered for phrase in _NO_RIGHTS):
            return ChatForbidden(chat_id, message)
        return Rejected(chat_id, message)
    cause = exc.__cause__
    if (
        isinstance(exc, TimedOut | NetworkError)
        and isinstance(cause, _MAYBE_DELIVERED)
        and not isinstance(cause, _NOT_SENT)
    ):
        return DeliveryUnknown(chat_id, f"no answer from Telegram ({type(exc.__cause__).__name__})")
    if isinstance(exc, TimedOut):
        return TransientError(chat_id, f"timed out before sending ({type(exc.__cause__).__name__})")
    # 5xx, connection refused, 429 without retry_after, 401/404 from a wrong token or API URL: retry later.
    return TransientError(chat_id, message)


async def translated(chat_id: str, call: Awaitable[T]) -> T:
    """Await a PTB call for `chat_id`, its TelegramError turned into the project's exception."""
    try:
        return await call
    except TelegramError as exc:
        raise translate(exc, chat_id) from exc


class TelegramSender:
    """Sends through the Application's `Bot` (so its rate limiter and HTTP pool are shared)."""

    def __init__(
        self,
        bot: Bot,
        *,
        link_preview: LinkPreview = "large",
        disable_notification: bool = False,
        timeout: float = 15.0,
    ) -> None:
        self.bot = bot
        self.link_preview = link_preview
        self.disable_notification = disable_notification
        self.timeout = timeout

    def preview(self, url: str | None) -> LinkPreviewOptions:
        """LINK_PREVIEW: off disables it; small/large preview the article URL with that media size."""
        if self.link_preview == "off" or not url:
            return LinkPreviewOptions(is_disabled=True)
        if self.link_preview == "small":
            return LinkPreviewOptions(url=url, prefer_small_media=True)
        return LinkPreviewOptions(url=url, prefer_large_media=True)

    async def _call(self, chat_id: str, call: Awaitable[T]) -> T:
        return await translated(chat_id, call)

    @property
    def username(self) -> str | None:
        """The bot's @username (for t.me links), once the Application has initialised the Bot."""
        try:
            return self.bot.username
        except RuntimeError:  # not initialised: getMe has not run
            return None

    async def send(
        self,
        chat_id: str,
        text: str,
        *,
        html: bool,
        preview_url: str | None,
        silent: bool | None = None,
        button: tuple[str, str] | None = None,
    ) -> int:
        """Post `text` (Telegram HTML when `html`, else plain); returns the message id. `silent` overrides
        DISABLE_NOTIFICATION for this post (breaking news rings, quiet hours don't); `button` is one URL
        button (label, url) under it."""
        message = await self._call(
            chat_id,
            self.bot.send_message(
                chat_ref(chat_id),
                text,
                parse_mode=ParseMode.HTML if html else None,
                link_preview_options=self.preview(preview_url),
                disable_notification=self.disable_notification if silent is None else silent,
                reply_markup=url_button(button),
                read_timeout=self.timeout,
                write_timeout=self.timeout,
            ),
        )
        return message.message_id

    async def edit(
        self,
        chat_id: str,
        message_id: int,
        text: str,
        *,
        html: bool,
        preview_url: str | None,
        button: tuple[str, str] | None = None,
    ) -> None:
        """Replace a post's text, keeping its button (an edit without reply_markup removes it); "message
        is not modified" counts as done."""
        try:
            await self._call(
                chat_id,
                self.bot.edit_message_text(
                    text,
                    chat_id=chat_ref(chat_id),
                    message_id=message_id,
                    parse_mode=ParseMode.HTML if html else None,
                    link_preview_options=self.preview(preview_url),
                    reply_markup=url_button(button),
                    read_timeout=self.timeout,
                    write_timeout=self.timeout,
                ),
            )
        except NotModified:
            return

    async def pin(self, chat_id: str, message_id: int) -> None:
        """Pin a post without a second notification (the post itself rang)."""
        await self._call(
            chat_id, self.bot.pin_chat_message(chat_ref(chat_id), message_id, disable_notification=True)
        )

    async def unpin(self, chat_id: str, message_id: int) -> None:
        await self._call(chat_id, self.bot.unpin_chat_message(chat_ref(chat_id), message_id=message_id))

    async def notify(self, user_id: int, text: str) -> bool:
        """A plain private message to an admin; failures are logged and reported as False, never raised."""
        try:
            await self.bot.send_message(
                user_id,
                text,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
                read_timeout=self.timeout,
                write_timeout=self.timeout,
            )
        except TelegramError as exc:
            log.warning("admin_notice_failed", admin_id=user_id, error=exc.message)
            return False
        return True
