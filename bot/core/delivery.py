"""One channel post on its way to Telegram: the outbox item, what can go wrong (as exceptions), and backoff.

Pure: the Telegram sender translates python-telegram-bot's errors into these at the boundary; the publisher
decides on them (retry, fall back, pause, give up). Recording outcomes is the outbox repository's job.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.core.errors import PublishError

__all__ = [
    "BadMarkup",
    "ChatForbidden",
    "ChatMoved",
    "DeliveryError",
    "DeliveryUnknown",
    "FloodWait",
    "NotModified",
    "OutboxItem",
    "Rejected",
    "TooLong",
    "TransientError",
    "backoff_seconds",
]


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """One outbox row with what is needed to render it: the article's current headline and dek."""

    id: int
    article_id: int
    chat_id: str
    attempts: int
    headline: str
    dek: str
    url: str
    source: str
    categories: tuple[str, ...]
    queued_at: datetime
    message_id: int | None = None
    sent_text: str | None = None
    sent_at: datetime | None = None
    breaking: bool = False  # head of its chat's queue, always notifies, marked, maybe pinned
    silent: bool = False  # an editor chose "Post silently"
    topic: str | None = None  # the topic a "Follow" button offers (POST_BUTTONS=topic): the chat's own first


class DeliveryError(PublishError):
    """A failed call for one chat; `str()` is one line naming the chat and Telegram's reason."""

    def __init__(self, chat_id: str, reason: str) -> None:
        super().__init__(f"chat {chat_id}: {reason}")
        self.chat_id = chat_id
        self.reason = reason


class FloodWait(DeliveryError):
    """429: wait `retry_after` seconds, then retry the same message."""

    def __init__(self, chat_id: str, retry_after: float) -> None:
        super().__init__(chat_id, f"flood control, retry after {retry_after:g} s")
        self.retry_after = retry_after


class TransientError(DeliveryError):
    """5xx, connection refused, connect timeout: nothing was delivered, retry with backoff."""


class DeliveryUnknown(DeliveryError):
    """The request went out but no answer came back (read timeout, dropped connection): maybe delivered."""


class BadMarkup(DeliveryError):
    """400 "can't parse entities": the HTML was refused; the plain-text fallback may go through."""


class TooLong(DeliveryError):
    """400 "message is too long": Telegram measured more than the renderer did."""


class NotModified(DeliveryError):
    """400 "message is not modified": an edit with the text already there, which is success."""


class ChatForbidden(DeliveryError):
    """403, or 400 about missing rights: the bot was removed or is not an admin. Pause the channel."""


class ChatMoved(DeliveryError):
    """The group became a supergroup with a new id; send there instead."""

    def __init__(self, chat_id: str, new_chat_id: str) -> None:
        super().__init__(chat_id, f"chat migrated to {new_chat_id}")
        self.new_chat_id = new_chat_id


class Rejected(DeliveryError):
    """Any other 400 ("message to edit not found", …): retrying cannot help. ("chat not found" pauses.)"""


def backoff_seconds(attempt: int, *, base: float = 2.0, cap: float = 300.0) -> float:
    """Capped exponential backoff after the `attempt`-th failed try (1-based): 2, 4, 8 … `cap` seconds."""
    if attempt < 1:
        return 0.0
    return min(cap, base * 2.0 ** min(attempt - 1, 30))
