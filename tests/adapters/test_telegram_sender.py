"""The Telegram sender's boundary: every python-telegram-bot error becomes the project's own outcome type."""

from __future__ import annotations

from datetime import timedelta

import aiohttp
import httpx
import pytest
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bot.adapters.telegram_sender import chat_ref, translate
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


def refused() -> aiohttp.ClientConnectorError:
    key = aiohttp.client_reqrep.ConnectionKey("127.0.0.1", 9, False, True, None, None, None)
    return aiohttp.ClientConnectorError(key, ConnectionRefusedError(111, "Connection refused"))


def caused(error: TelegramError, cause: Exception) -> TelegramError:
    """`error` raised `from cause`, as PTB's HTTPXRequest raises it."""
    try:
        raise error from cause
    except TelegramError as exc:
        return exc


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (BadRequest('Can\'t parse entities: unsupported start tag "p" at byte offset 0'), BadMarkup),
        (BadRequest("Message is too long"), TooLong),
        (BadRequest("Message caption is too long"), TooLong),
        (BadRequest("Message is not modified: specified new message content ..."), NotModified),
        (BadRequest("Need administrator rights in the channel chat"), ChatForbidden),
        (BadRequest("Chat not found"), ChatForbidden),
        (BadRequest("Bad Request: chat not found"), ChatForbidden),
        (BadRequest("Message to edit not found"), Rejected),
        (Forbidden("Forbidden: bot was kicked from the channel chat"), ChatForbidden),
        (NetworkError("Bad Gateway"), TransientError),
        (NetworkError("Internal Server Error (500)"), TransientError),
        (caused(TimedOut(), httpx.ReadTimeout("read")), DeliveryUnknown),
        (
            caused(NetworkError("httpx.RemoteProtocolError: dropped"), httpx.RemoteProtocolError("x")),
            DeliveryUnknown,
        ),
        (caused(TimedOut(), httpx.ConnectTimeout("connect")), TransientError),
        (caused(TimedOut(), httpx.PoolTimeout("pool")), TransientError),
        (caused(NetworkError("httpx.ConnectError: refused"), httpx.ConnectError("refused")), TransientError),
        (caused(TimedOut(), aiohttp.SocketTimeoutError("read")), DeliveryUnknown),
        (
            caused(NetworkError("aiohttp.ServerDisconnectedError"), aiohttp.ServerDisconnectedError()),
            DeliveryUnknown,
        ),
        (caused(TimedOut(), TimeoutError()), DeliveryUnknown),
        (caused(TimedOut(), aiohttp.ConnectionTimeoutError("connect")), TransientError),
        (caused(NetworkError("aiohttp.ClientConnectorError"), refused()), TransientError),
        (TelegramError("Conflict or anything else"), TransientError),
    ],
)
def test_errors_translate_to_outcomes(error: TelegramError, kind: type[Exception]) -> None:
    translated = translate(error, "-100123")
    assert type(translated) is kind
    assert "-100123" in str(translated)
    assert "\n" not in str(translated)


def test_flood_wait_and_migration_carry_their_numbers() -> None:
    flood = translate(RetryAfter(timedelta(seconds=7)), "@news")
    assert isinstance(flood, FloodWait)
    assert flood.retry_after == 7.0
    moved = translate(ChatMigrated(-1009), "-4001")
    assert isinstance(moved, ChatMoved)
    assert moved.new_chat_id == "-1009"


def test_chat_ids_keep_names_and_become_numbers() -> None:
    assert chat_ref("-1001234567890") == -1001234567890
    assert chat_ref("4242") == 4242
    assert chat_ref("@newsbot_news") == "@newsbot_news"
