"""State of the local Bot API stand-in: chats, users, messages, updates, records, and the checks sends share.

The Bot API methods are in `methods`, the test helpers in `harness`, HTTP in
`server`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Callable
from typing import Any

from bot.core.telegram_html import ENTITY_LIMIT, Entity, ParsedText, TelegramHTMLError, parse_html
from bot.sandbox.botapi.model import (
    ApiError,
    BotStatus,
    Chat,
    Fault,
    FloodWindow,
    JSONDict,
    SentMessage,
    bad_request,
    retry_after_seconds,
)

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024


class BotAPIState:
    """Chats, users, the bot's messages, pending updates, commands and records; checks sends share."""

    def __init__(
        self,
        token: str,
        *,
        bot_username: str,
        bot_first_name: str,
        enforce_limits: bool,
        channel_limit: tuple[int, float],
        private_limit: tuple[int, float],
        global_limit: tuple[int, float],
        clock: Callable[[], float],
    ) -> None:
        self.token = token
        prefix = token.split(":", 1)[0]
        self.bot_id = int(prefix) if prefix.isdigit() else 123456
        self.bot_user: JSONDict = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }
        self.enforce_limits = enforce_limits
        self.channel_window = FloodWindow(*channel_limit)
        self.private_window = FloodWindow(*private_limit)
        self.global_window = FloodWindow(*global_limit)
        self._clock = clock
        self.chats: dict[int, Chat] = {}
        self.users: dict[int, JSONDict] = {}
        self.messages: dict[int, list[SentMessage]] = {}
        """The bot's messages per chat id, in the order sent; edits and deletions update them in place."""
        self.incoming: dict[tuple[int, int], JSONDict] = {}
        """Injected user messages by (chat id, message id), as Message JSON."""
        self.my_commands: dict[tuple[tuple[Any, ...], str], list[JSONDict]] = {}
        """setMyCommands storage by (scope key, language code); see `commands()`."""
        self.stats: Counter[str] = Counter()
        self.updates: list[JSONDict] = []
        self.last_update_id = 0
        self.poll_generation = 0
        self.closing = False
        self._changed = asyncio.Event()
        self.requests: list[tuple[str, JSONDict]] = []
        """Every authorised call in arrival order: (method name as documented, decoded params)."""
        self.errors: list[tuple[str, int, str]] = []
        """Every error answered: (method, status, description)."""
        self.faults: list[Fault] = []
        self.outage = False
        self.subscribers: list[asyncio.Queue[JSONDict]] = []
        self.callbacks: dict[str, Any] = {}
        """Callback queries delivered, by id (methods_buttons.CallbackRecord)."""
        self.inline_queries: dict[str, Any] = {}
        """Inline queries delivered, by id (methods_inline.InlineRecord)."""
        self.chosen: list[JSONDict] = []
        """Inline results users chose, as the messages they sent via the bot."""
        self.pins: dict[int, list[int]] = {}
        """Pinned message ids per chat, oldest pin first."""

    # -- change notification --------------------------------------------------------------------------------

    def notify(self) -> None:
        """Wake every waiter (long polls, `wait_for`): something changed."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_changed(self, timeout: float, changed: asyncio.Event | None = None) -> None:  # noqa: ASYNC109
        """Wait for the next `notify()` (or the one `changed` belongs to) for at most `timeout` seconds."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for((changed or self._changed).wait(), timeout)

    def publish(self, event: JSONDict) -> None:
        """Hand an event to every subscriber; a slow one loses its oldest events, the API never blocks."""
        for queue in self.subscribers:
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(event)

    # -- chats ---------------------------------------------------------------------------------------------

    def find_chat(self, chat_id: object) -> Chat | None:
        """The chat for an id, a numeric string or "@username" (case-insensitive), or None."""
        if isinstance(chat_id, str):
            value = chat_id.strip()
            if value.startswith("@"):
                name = value[1:].lower()
                return next((c for c in self.chats.values() if (c.username or "").lower() == name), None)
            if not value.lstrip("-").isdigit():
                return None
            chat_id = int(value)
        if isinstance(chat_id, bool) or not isinstance(chat_id, int):
            return None
        return self.chats.get(chat_id)

    def chat(self, chat_id: object) -> Chat:
        """The chat for `chat_id`, or the 400 Telegram answers for an unknown one."""
        if chat_id is None or chat_id == "":
            raise bad_request("chat_id is empty")
        found = self.find_chat(chat_id)
        if found is None:
            raise bad_request("chat not found")
        return found

    def remember_user(self, user_id: int, *, username: str | None, first_name: str) -> JSONDict:
        user: JSONDict = {"id": user_id, "is_bot": False, "first_name": first_name}
        if username:
            user["username"] = username
        self.users[user_id] = user
        return user

    def private_chat(self, user_id: int) -> Chat:
        """The user's private chat with the bot, created (as started) when missing."""
        chat = self.chats.get(user_id)
        if chat is None:
            user = self.users.get(user_id) or self.remember_user(user_id, username=None, first_name="User")
            chat = Chat(user_id, "private", first_name=user["first_name"], username=user.get("username"))
            self.chats[user_id] = chat
        return chat

    def check_can_send(self, chat: Chat) -> None:
        """Raise what Telegram answers when the bot may not post in `chat`."""
        if chat.type == "private":
            if chat.blocked:
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            if not chat.started:
                raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
            return
        if chat.migrated_to is not None:
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                migrate_to_chat_id=chat.migrated_to,
            )
        if chat.bot_status == "kicked":
            raise ApiError(403, f"Forbidden: bot was kicked from the {chat.kind} chat")
        if chat.bot_status == "left":
            raise ApiError(403, f"Forbidden: bot is not a member of the {chat.kind} chat")
        if chat.type == "channel" and chat.bot_status != "administrator":
            raise bad_request("need administrator rights in the channel chat")

    def take_send_slot(self, chat: Chat) -> None:
        """Count one message against the chat's and the global flood windows, or raise 429."""
        if not self.enforce_limits:
            return
        now = self._clock()
        window = self.private_window if chat.type == "private" else self.channel_window
        wait = max(window.wait_time(chat.id, now), self.global_window.wait_time(None, now))
        if wait > 0:
            seconds = retry_after_seconds(wait)
            raise ApiError(429, f"Too Many Requests: retry after {seconds}", retry_after=seconds)
        window.record(chat.id, now)
        self.global_window.record(None, now)

    def reset_limits(self) -> None:
        """Forget every flood window's history."""
        for window in (self.channel_window, self.private_window, self.global_window):
            window.clear()

    # -- text ----------------------------------------------------------------------------------------------

    def render(self, params: JSONDict, key: str, *, caption: bool) -> ParsedText:
        """Parse and check a text or caption the way Telegram does: markup, entities, then length."""
        raw = params.get(key)
        raw = "" if raw is None else str(raw)
        mode = str(params.get("parse_mode") or "")
        if mode.lower() == "html":
            try:
                parsed = parse_html(raw)
            except TelegramHTMLError as e:
                raise bad_request(f"can't parse entities: {e.reason}") from e
        elif mode.lower() in ("", "markdown", "markdownv2"):  # Markdown is accepted but not parsed
            given = params.get("caption_entities" if caption else "entities") if not mode else None
            parsed = ParsedText(raw, [_entity(e) for e in given] if isinstance(given, list) else [])
        else:
            raise bad_request("unsupported parse_mode")
        parsed = parsed.stripped()
        if caption:
            if parsed.length > CAPTION_LIMIT:
                raise bad_request("message caption is too long")
        elif parsed.length == 0:
            raise bad_request("message text is empty")
        elif parsed.length > TEXT_LIMIT:
            raise bad_request("message is too long")
        if len(parsed.entities) > ENTITY_LIMIT:
            raise bad_request(f"too many message entities (at most {ENTITY_LIMIT})")
        return parsed

    def set_bot_status(self, chat_id: int | str, status: BotStatus) -> None:
        self.chat(chat_id).bot_status = status


def _entity(raw: object) -> Entity:
    """An Entity from a MessageEntity JSON object given in `entities`."""
    if not isinstance(raw, dict):
        raise bad_request("can't parse entities JSON object")
    kind = str(raw.get("type", ""))
    extra = raw.get("url") or raw.get("language") or raw.get("custom_emoji_id")
    user = raw.get("user")
    if kind == "text_mention" and isinstance(user, dict):
        extra = user.get("id")
    offset, length = int_param(raw.get("offset"), -1), int_param(raw.get("length"), 0)
    if not kind or offset < 0 or length <= 0:
        raise bad_request("can't parse entities JSON object")
    return Entity(kind, offset, length, str(extra) if extra is not None else None)


def int_param(value: object, default: int) -> int:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise bad_request("wrong parameter type: expected an integer")
    if not isinstance(value, int | float | str):
        raise bad_request("wrong parameter type: expected an integer")
    try:
        return int(value)
    except ValueError as e:
        raise bad_request("wrong parameter type: expected an integer") from e


def float_param(value: object, default: float) -> float:
    if value is None or value == "":
        return default
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise bad_request("wrong parameter type: expected a number")
    try:
        return float(value)
    except ValueError as e:
        raise bad_request("wrong parameter type: expected a number") from e
