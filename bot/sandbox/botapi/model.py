"""State types of the local Bot API stand-in: API errors, chats, sent messages, flood windows, faults, params.

Nothing here does I/O; `methods` implements the Bot API methods on these types and `server`
serves them over HTTP.
"""

from __future__ import annotations

import json
import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

JSONDict = dict[str, Any]
BotStatus = Literal["administrator", "member", "left", "kicked"]

# Parameters whose form value is always a plain string; every other form value may be JSON-encoded, which is
# how python-telegram-bot sends non-string values ("true", "123", '{"is_disabled":true}').
STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "photo",
        "callback_query_id",
        "language_code",
        "url",
        "inline_message_id",
        "title",
        "description",
        "short_description",
        "name",
        "emoji",
        "business_connection_id",
        "message_effect_id",
        "secret_token",
        "ip_address",
    }
)

_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class ApiError(Exception):
    """A Bot API error answer: the HTTP status equals `error_code`; 429 carries `retry_after`."""

    def __init__(
        self,
        status: int,
        description: str | None = None,
        *,
        retry_after: int | None = None,
        migrate_to_chat_id: int | None = None,
    ) -> None:
        if description is None:
            description = _DEFAULT_DESCRIPTIONS.get(status, "Error")
            if status == 429:
                description = (
                    f"Too Many Requests: retry after {retry_after if retry_after is not None else 1}"
                )
        if status == 429 and retry_after is None:
            retry_after = 1
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after
        self.migrate_to_chat_id = migrate_to_chat_id

    def payload(self) -> JSONDict:
        """The JSON body Telegram answers with (`parameters` for a flood wait or a migrated group)."""
        body: JSONDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        if self.migrate_to_chat_id is not None:
            body["parameters"] = {"migrate_to_chat_id": self.migrate_to_chat_id}
        return body


def bad_request(detail: str) -> ApiError:
    """A 400 whose description reads "Bad Request: <detail>"."""
    return ApiError(400, f"Bad Request: {detail}")


@dataclass(frozen=True, slots=True)
class UploadedFile:
    """A file that arrived as a multipart part."""

    filename: str | None
    content_type: str | None
    size: int
    content: bytes = b""


@dataclass(slots=True)
class Chat:
    """A chat the stand-in knows: a registered channel or group, or a user's private chat with the bot."""

    id: int
    type: str  # "channel", "supergroup", "group" or "private"
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    bot_status: BotStatus = "administrator"
    started: bool = True  # private chats: the user has started the bot
    blocked: bool = False  # private chats: the user has blocked the bot
    admins: dict[int, str] = field(default_factory=dict)  # user id -> "creator" or "administrator"
    bot_can_pin: bool = True  # as an administrator: can_edit_messages (channels) / can_pin_messages (groups)
    migrated_to: int | None = None  # a group upgraded to this supergroup: sends here answer 400
    last_message_id: int = 0

    def next_message_id(self) -> int:
        """Message ids count up per chat, shared by the bot's and the users' messages."""
        self.last_message_id += 1
        return self.last_message_id

    @property
    def kind(self) -> str:
        """The word Telegram's errors use for this chat: "channel", "supergroup" or "group"."""
        return self.type if self.type in ("channel", "supergroup") else "group"

    def to_json(self) -> JSONDict:
        """The Bot API Chat object."""
        out: JSONDict = {"id": self.id, "type": self.type}
        if self.type == "private":
            out["first_name"] = self.first_name or "User"
        elif self.title is not None:
            out["title"] = self.title
        if self.username:
            out["username"] = self.username
        return out

    def to_full_json(self) -> JSONDict:
        """The Bot API ChatFullInfo object, with every field python-telegram-bot requires."""
        out = self.to_json()
        out.update(
            accent_color_id=0,
            max_reaction_count=11,
            accepted_gift_types={
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        )
        if self.type != "private":
            out["description"] = ""
        return out


@dataclass(slots=True)
class SentMessage:
    """A message the bot sent, as it stands now: `text` is what readers see (the caption for photos)."""

    chat_id: int
    message_id: int
    date: int
    kind: Literal["text", "photo", "document"]
    text: str
    html: str  # the raw text or caption as last sent or edited, markup included
    parse_mode: str | None
    entities: list[JSONDict]
    link_preview_options: JSONDict | None = None
    disable_notification: bool = False
    reply_markup: JSONDict | None = None
    photo: str | None = None  # the URL or file_id sent, or "upload:<filename>"
    deleted: bool = False
    edit_date: int | None = None
    history: list[str] = field(default_factory=list)  # earlier raw texts, oldest first
    reply_to: int | None = None  # the message id this one replies to
    document: JSONDict | None = None  # a sent document's Document object (bot/sandbox/botapi/files.py)

    def to_json(self, chat: Chat, bot_user: JSONDict) -> JSONDict:
        """The Bot API Message object python-telegram-bot can de_json."""
        out: JSONDict = {"message_id": self.message_id, "date": self.date, "chat": chat.to_json()}
        if chat.type == "channel":
            out["sender_chat"] = chat.to_json()
        else:
            out["from"] = bot_user
        if self.kind in ("photo", "document"):
            if self.kind == "photo":
                out["photo"] = photo_sizes(self.chat_id, self.message_id)
            else:
                out["document"] = self.document
            if self.text:
                out["caption"] = self.text
            if self.entities:
                out["caption_entities"] = self.entities
        else:
            out["text"] = self.text
            if self.entities:
                out["entities"] = self.entities
            if self.link_preview_options is not None:
                out["link_preview_options"] = self.link_preview_options
        if self.reply_markup is not None and "inline_keyboard" in self.reply_markup:
            out["reply_markup"] = self.reply_markup
        if self.edit_date is not None:
            out["edit_date"] = self.edit_date
        return out

    def to_event(self, event: str, chat: Chat) -> JSONDict:
        """A flat dict for live viewers (the sandbox page) and tests."""
        return {
            "event": event,
            "chat_id": self.chat_id,
            "chat_title": chat.title or chat.first_name or chat.username,
            "chat_type": chat.type,
            "message_id": self.message_id,
            "date": self.date,
            "kind": self.kind,
            "text": self.text,
            "html": self.html,
            "parse_mode": self.parse_mode,
            "entities": self.entities,
            "photo": self.photo,
            "deleted": self.deleted,
            "edit_date": self.edit_date,
            "disable_notification": self.disable_notification,
            "link_preview_options": self.link_preview_options,
            "reply_markup": self.reply_markup,
            "reply_to": self.reply_to,
        }


def photo_sizes(chat_id: int, message_id: int) -> list[JSONDict]:
    """Two PhotoSize objects for a sent photo, with ids unique to the message."""
    base = f"AgACAgLocal{abs(chat_id)}x{message_id}"
    return [
        {
            "file_id": f"{base}s",
            "file_unique_id": f"{base}us",
            "width": 320,
            "height": 180,
            "file_size": 9000,
        },
        {
            "file_id": f"{base}m",
            "file_unique_id": f"{base}um",
            "width": 1280,
            "height": 720,
            "file_size": 90000,
        },
    ]


def member_json(user: JSONDict, status: str, *, can_pin: bool = True) -> JSONDict:
    """A ChatMember object; an administrator carries every `can_*` boolean python-telegram-bot requires.

    `can_pin` is the pinning right: can_edit_messages (channels) and can_pin_messages (groups) follow it.
    """
    if status == "administrator":
        return {
            "status": "administrator",
            "user": user,
            "can_be_edited": False,
            "is_anonymous": False,
            "can_manage_chat": True,
            "can_delete_messages": True,
            "can_manage_video_chats": True,
            "can_restrict_members": True,
            "can_promote_members": False,
            "can_change_info": True,
            "can_invite_users": True,
            "can_post_stories": True,
            "can_edit_stories": True,
            "can_delete_stories": True,
            "can_post_messages": True,
            "can_edit_messages": can_pin,
            "can_pin_messages": can_pin,
            "can_manage_topics": False,
        }
    if status == "creator":
        return {"status": "creator", "user": user, "is_anonymous": False}
    if status == "kicked":
        return {"status": "kicked", "user": user, "until_date": 0}
    return {"status": status, "user": user}


class FloodWindow:
    """A rolling window allowing `limit` events per `period` seconds for each key."""

    def __init__(self, limit: int, period: float) -> None:
        self.limit = limit
        self.period = period
        self._events: dict[object, deque[float]] = {}

    def wait_time(self, key: object, now: float) -> float:
        """Seconds until `key` may have one more event; 0 when it may now."""
        events = self._events.get(key)
        if not events:
            return 0.0
        while events and events[0] <= now - self.period:
            events.popleft()
        if len(events) < self.limit:
            return 0.0
        return events[len(events) - self.limit] + self.period - now

    def record(self, key: object, now: float) -> None:
        self._events.setdefault(key, deque()).append(now)

    def clear(self) -> None:
        self._events.clear()


def retry_after_seconds(wait: float) -> int:
    """Telegram's `retry_after`: whole seconds, at least 1."""
    return max(1, math.ceil(wait))


@dataclass(slots=True)
class Fault:
    """An injected failure or delay for the next `remaining` matching calls."""

    method: str | None  # lower-case method name; None matches every method but getUpdates
    remaining: int
    chat_id: int | str | None = None
    error: ApiError | None = None
    delay: float = 0.0

    def matches(self, method: str) -> bool:
        """Whether the fault applies to a call of `method` (lower-case); the chat is checked by the caller."""
        if self.remaining <= 0:
            return False
        if self.method is None:
            return method != "getupdates"
        return self.method == method


def decode_form_value(name: str, value: str) -> Any:
    """A form value as python-telegram-bot meant it: JSON-decoded unless the parameter is a plain string."""
    if name in STRING_PARAMS:
        return value
    stripped = value.strip()
    if not stripped or stripped[0] not in '{["-0123456789tfn':
        return value
    try:
        return json.loads(stripped)
    except ValueError:
        return value


def decode_params(raw: Mapping[str, str]) -> JSONDict:
    """Decode every value of a urlencoded or query-string parameter mapping."""
    return {name: decode_form_value(name, value) for name, value in raw.items()}
