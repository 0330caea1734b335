"""Test controls of the local Bot API stand-in: registering chats, injecting updates and faults, waiting.

Tests and the sandbox drive the stand-in through these; the Bot API methods are in `methods`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import Callable
from typing import TypeVar

from bot.core.telegram_html import utf16_len
from bot.sandbox.botapi.methods import BotAPIMethods
from bot.sandbox.botapi.methods_buttons import CallbackRecord
from bot.sandbox.botapi.model import ApiError, BotStatus, Chat, Fault, JSONDict, SentMessage, photo_sizes

T = TypeVar("T")
_BOT_COMMAND_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
_EVENT_QUEUE_SIZE = 1000
_callback_ids = itertools.count(1)


class BotAPIHarness(BotAPIMethods):
    """What tests do to the stand-in besides calling it: set up chats, inject, break, inspect, wait."""

    privacy_mode = True  # groups deliver only commands and replies to the bot (Telegram's default)

    # -- faults --------------------------------------------------------------------------------------------

    async def apply_faults(self, method: str, params: JSONDict) -> None:
        """Answer an injected outage or failure, or delay, before the method runs."""
        if self.outage:
            raise ApiError(502)
        key = method.lower()
        chat_key = self._chat_key(params.get("chat_id"))
        matching = [
            f for f in self.faults if f.matches(key) and self._chat_key(f.chat_id) in (None, chat_key)
        ]
        delay = next((f for f in matching if f.delay > 0), None)
        if delay is not None:
            delay.remaining -= 1
            await self._sleep(delay.delay)
            if self.closing:
                raise ApiError(502)
        failure = next((f for f in matching if f.error is not None), None)
        if failure is not None:
            failure.remaining -= 1
        self.faults = [f for f in self.faults if f.remaining > 0]
        if failure is not None and failure.error is not None:
            raise failure.error

    def _chat_key(self, chat_id: object) -> object:
        """The chat's numeric id when known ("@name" and id are one chat), else the value as given."""
        chat = self.find_chat(chat_id)
        return chat.id if chat is not None else chat_id

    async def _sleep(self, seconds: float) -> None:
        """Sleep, cut short when the server stops."""
        with contextlib.suppress(TimeoutError):
            await self.wait_until(lambda: self.closing, timeout=seconds)

    def fail_next(
        self,
        method: str | None = None,
        *,
        status: int = 429,
        description: str | None = None,
        retry_after: int | None = None,
        count: int = 1,
        chat_id: int | str | None = None,
    ) -> None:
        """Answer the next `count` calls of `method` (None: any method but getUpdates) with an error.

        Defaults: 429 "Too Many Requests: retry after N" with `retry_after` (1 when not given), 500 "Internal
        Server Error", 502 "Bad Gateway", 400 "Bad Request"; `description` replaces the text. With `chat_id`
        only calls to that chat ("@name" and the numeric id are the same chat) fail.
        """
        error = ApiError(status, description, retry_after=retry_after)
        self.faults.append(Fault(_method_key(method), count, chat_id, error=error))

    def hang_next(self, method: str | None, seconds: float, count: int = 1) -> None:
        """Delay the answer to the next `count` calls of `method` by `seconds`, then process them normally.

        A client that times out meanwhile still gets its message sent, as with the real Telegram.
        """
        self.faults.append(Fault(_method_key(method), count, delay=seconds))

    def set_outage(self, on: bool) -> None:
        """While on, every method answers 502 Bad Gateway."""
        self.outage = on

    def clear_faults(self) -> None:
        """Forget pending failures and delays and end an outage."""
        self.faults.clear()
        self.outage = False

    def kick_bot(self, chat_id: int | str) -> None:
        """The bot is removed: sends answer 403 "Forbidden: bot was kicked from the channel chat"."""
        self.set_bot_status(chat_id, "kicked")

    def restore_bot(self, chat_id: int | str) -> None:
        """The bot is an administrator of the chat again."""
        self.set_bot_status(chat_id, "administrator")

    def block_bot(self, user_id: int) -> None:
        """The user blocks the bot: sends to them answer 403 "Forbidden: bot was blocked by the user"."""
        self.private_chat(user_id).blocked = True

    def unblock_bot(self, user_id: int) -> None:
        """The user unblocks the bot (writing to it does too)."""
        self.private_chat(user_id).blocked = False

    # -- setup ---------------------------------------------------------------------------------------------

    def add_chat(
        self,
        chat_id: int,
        *,
        username: str | None = None,
        title: str = "Test channel",
        type: str = "channel",
        bot_status: BotStatus = "administrator",
        admins: dict[int, str] | None = None,
    ) -> Chat:
        """Register a channel or group (type "channel", "supergroup" or "group"); "@username" resolves to it.

        `bot_status` is the bot's membership: "member" in a channel means it may not post, "left" and "kicked"
        answer 403. `admins` maps user ids to "creator" or "administrator" for getChatMember and
        getChatAdministrators.
        """
        if bot_status not in ("administrator", "member", "left", "kicked"):
            raise ValueError(f"unknown bot_status {bot_status!r}")
        chat = Chat(chat_id, type, title=title, username=(username or "").lstrip("@") or None)
        chat.bot_status = bot_status
        for user_id, status in (admins or {}).items():
            self.users.setdefault(user_id, {"id": user_id, "is_bot": False, "first_name": f"Admin {user_id}"})
            chat.admins[user_id] = status
        self.chats[chat_id] = chat
        return chat

    def add_user(
        self, user_id: int, *, username: str | None = None, first_name: str = "Reader", started: bool = True
    ) -> Chat:
        """Register a user and their private chat; `started=False` means the bot may not write first."""
        self.remember_user(user_id, username=username, first_name=first_name)
        chat = self.private_chat(user_id)
        chat.started, chat.first_name, chat.username = started, first_name, username
        return chat

    # -- injection -----------------------------------------------------------------------------------------

    def inject_update(self, update: JSONDict) -> int:
        """Queue a raw update for getUpdates; returns its update_id."""
        self.last_update_id += 1
        self.updates.append({"update_id": self.last_update_id, **update})
        self.notify()
        return self.last_update_id

    def inject_message(
        self,
        text: str,
        *,
        user_id: int = 1001,
        chat_id: int | str | None = None,
        username: str | None = "reader",
        first_name: str = "Reader",
        chat_type: str = "private",
        reply_to: int | None = None,
    ) -> int:
        """A user writes `text` (by default in their private chat, created on demand); returns the update_id.

        A text starting with "/" carries the bot_command entity python-telegram-bot's CommandHandler needs.
        An unknown numeric `chat_id` creates a chat of `chat_type` ("group", "supergroup") on the fly.
        `reply_to` makes it a reply to that message of the chat (the bot's or a user's). In groups, privacy
        mode (`privacy_mode`, on as in Telegram) delivers only commands and replies to the bot's messages;
        other messages are seen on the page but never reach the bot (the update_id is then 0).
        """
        return self._inject_user_message(
            {"text": text},
            text,
            user_id=user_id,
            chat_id=chat_id,
            username=username,
            first_name=first_name,
            chat_type=chat_type,
            reply_to=reply_to,
        )

    def inject_photo(
        self,
        caption: str = "",
        *,
        user_id: int = 1001,
        chat_id: int | str | None = None,
        username: str | None = "reader",
        first_name: str = "Reader",
        reply_to: int | None = None,
    ) -> int:
        """A user sends a photo with `caption` (a leading "/command" gets its caption entity)."""
        fields: JSONDict = {}
        if caption:
            fields["caption"] = caption
        return self._inject_user_message(
            fields,
            caption,
            user_id=user_id,
            chat_id=chat_id,
            username=username,
            first_name=first_name,
            chat_type="private",
            reply_to=reply_to,
            photo=True,
        )

    def _inject_user_message(
        self,
        fields: JSONDict,
        text: str,
        *,
        user_id: int,
        chat_id: int | str | None,
        username: str | None,
        first_name: str,
        chat_type: str,
        reply_to: int | None,
        photo: bool = False,
    ) -> int:
        user = self.remember_user(user_id, username=username, first_name=first_name)
        if chat_id is None or chat_id == user_id:
            chat = self.private_chat(user_id)
            chat.started, chat.blocked = True, False  # writing to the bot (re)starts it
        else:
            found = self.find_chat(chat_id)
            if found is None:
                if not isinstance(chat_id, int):
                    raise ValueError(f"unknown chat {chat_id!r}")
                found = self.add_chat(chat_id, title=f"Chat {chat_id}", type=chat_type)
            chat = found
        replied = None
        if reply_to is not None:
            replied = self.find_message_json(chat, reply_to)
            if replied is None:
                raise ValueError(f"no message {reply_to} in chat {chat.id} to reply to")
        message: JSONDict = {
            "message_id": chat.next_message_id(),
            "date": int(time.time()),
            "chat": chat.to_json(),
            "from": user,
            **fields,
        }
        if photo:
            message["photo"] = photo_sizes(chat.id, message["message_id"])
        if replied is not None:
            message["reply_to_message"] = replied
        command = _command_length(text)
        if command:
            key = "caption_entities" if photo else "entities"
            message[key] = [{"type": "bot_command", "offset": 0, "length": command}]
        self.incoming[(chat.id, message["message_id"])] = message
        to_bot = replied is not None and replied.get("from", {}).get("id") == self.bot_id
        delivered = not (
            self.privacy_mode and chat.type in ("group", "supergroup") and not command and not to_bot
        )
        update_id = self.inject_update({"message": message}) if delivered else 0
        self.publish(
            {
                "event": "user_message",
                "update_id": update_id,
                "chat_id": chat.id,
                "chat_type": chat.type,
                "message_id": message["message_id"],
                "user_id": user_id,
                "username": username,
                "first_name": first_name,
                "text": text,
                "date": message["date"],
            }
        )
        return update_id

    def inject_callback_query(
        self,
        data: str,
        *,
        chat_id: int | str,
        message_id: int,
        user_id: int = 1001,
        username: str | None = "reader",
        first_name: str | None = None,
    ) -> str:
        """A user's client sends callback `data` for the bot's message (any data: a forged client may);
        returns the callback query id (`callback_answer`, `wait_for_callback_answer`)."""
        chat = self.chat(chat_id)
        user = self.users.get(user_id)
        if user is None or first_name is not None:
            user = self.remember_user(user_id, username=username, first_name=first_name or "Reader")
        query_id = str(next(_callback_ids))
        query: JSONDict = {"id": query_id, "from": user, "chat_instance": str(chat.id), "data": data}
        message = self.bot_message(chat, message_id)
        if message is not None:
            query["message"] = self.message_json(chat, message)
        self.record_callback(CallbackRecord(query_id, chat.id, message_id, user_id, data, time.monotonic()))
        self.inject_update({"callback_query": query})
        return query_id

    def press(
        self,
        chat_id: int | str,
        message_id: int,
        button_text: str,
        *,
        user_id: int = 1001,
        username: str | None = "reader",
        first_name: str | None = None,
    ) -> str:
        """A user presses the button labelled `button_text` under the bot's message; returns the query id.

        ValueError when the message has no such callback button now (a real client cannot press it).
        """
        chat = self.chat(chat_id)
        message = self.bot_message(chat, message_id)
        rows = (
            (message.reply_markup or {}).get("inline_keyboard", []) if message and not message.deleted else []
        )
        for row in rows:
            for button in row:
                if button.get("text") == button_text and "callback_data" in button:
                    return self.inject_callback_query(
                        button["callback_data"],
                        chat_id=chat.id,
                        message_id=message_id,
                        user_id=user_id,
                        username=username,
                        first_name=first_name,
                    )
        labels = [b.get("text") for row in rows for b in row]
        raise ValueError(
            f"message {message_id} in chat {chat.id} has no button {button_text!r} (has {labels})"
        )

    def callback_answer(self, query_id: str) -> JSONDict | None:
        """The bot's answerCallbackQuery for the query (text, show_alert, …), None until it answered."""
        record = self.callbacks.get(query_id)
        return dict(record.answer) if record is not None and record.answered else None

    async def wait_for_callback_answer(self, query_id: str, timeout: float = 5.0) -> JSONDict:  # noqa: ASYNC109
        return await self._wait_value(lambda: self.callback_answer(query_id), timeout)

    def buttons(self, chat_id: int | str, message_id: int) -> list[str]:
        """The labels of the bot message's inline buttons, row by row."""
        message = self.bot_message(self.chat(chat_id), message_id)
        rows = (message.reply_markup or {}).get("inline_keyboard", []) if message else []
        return [str(b.get("text")) for row in rows for b in row]

    # -- inspection ----------------------------------------------------------------------------------------

    def subscribe(self) -> asyncio.Queue[JSONDict]:
        """A queue receiving a dict for each sent, edited or deleted message, user message and API error."""
        queue: asyncio.Queue[JSONDict] = asyncio.Queue(maxsize=_EVENT_QUEUE_SIZE)
        self.subscribers.append(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[JSONDict]) -> None:
        with contextlib.suppress(ValueError):
            self.subscribers.remove(queue)

    def calls(self, method: str) -> list[JSONDict]:
        """The params of every call of `method` (case-insensitive), in order."""
        key = method.lower()
        return [params for name, params in self.requests if name.lower() == key]

    def chat_messages(self, chat_id: int | str, *, include_deleted: bool = True) -> list[SentMessage]:
        """The bot's messages in a chat ("@name" or id), oldest first."""
        chat = self.chat(chat_id)
        return [m for m in self.messages.get(chat.id, []) if include_deleted or not m.deleted]

    def channel_posts(self, chat_id: int | str, *, include_deleted: bool = False) -> list[SentMessage]:
        """The bot's posts in a channel that are still there (all of them with `include_deleted`)."""
        return self.chat_messages(chat_id, include_deleted=include_deleted)

    def commands(self, scope: JSONDict | None = None, language_code: str = "") -> list[JSONDict]:
        """The command menu set for `scope` (e.g. {"type": "chat", "chat_id": 42}) and language."""
        return list(self.my_commands.get((self.scope_key(scope), language_code), []))

    @property
    def count_429(self) -> int:
        return self.stats["status_429"]

    @property
    def count_sent(self) -> int:
        return self.stats["sent"]

    @property
    def count_edited(self) -> int:
        return self.stats["edited"]

    @property
    def count_deleted(self) -> int:
        return self.stats["deleted"]

    @property
    def count_errors(self) -> int:
        return len(self.errors)

    # -- waiting -------------------------------------------------------------------------------------------

    async def wait_until(self, check: Callable[[], bool], *, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Await until `check()` is true, re-checked on every change; TimeoutError after `timeout` s."""
        await self._wait_value(lambda: True if check() else None, timeout)

    async def wait_for(
        self,
        predicate: Callable[[SentMessage], bool],
        timeout: float = 5.0,  # noqa: ASYNC109 - a deadline is the point of these helpers
    ) -> SentMessage:
        """The first bot message (any chat, current state) matching `predicate`, awaiting it if needed."""

        def find() -> SentMessage | None:
            for messages in self.messages.values():
                for message in messages:
                    if predicate(message):
                        return message
            return None

        return await self._wait_value(find, timeout)

    async def _wait_value(self, find: Callable[[], T | None], timeout: float) -> T:  # noqa: ASYNC109
        """Await until `find()` returns a value; woken by `notify()`, never by polling."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            changed = self._changed
            value = find()
            if value is not None:
                return value
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"condition not met within {timeout} s")
            await self.wait_changed(remaining, changed)

    async def wait_for_reply(
        self,
        chat_id: int | str,
        *,
        after_message_id: int | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109 - a deadline is the point of these helpers
    ) -> SentMessage:
        """The bot's first message in the chat after `after_message_id`, awaiting it if needed.

        By default "after" means after the last message a user wrote in that chat (any, if none was injected).
        """
        chat = self.chat(chat_id)
        if after_message_id is None:  # the newest injected message in the chat is the last one in `incoming`
            after_message_id = next((mid for cid, mid in reversed(self.incoming) if cid == chat.id), 0)
        after = after_message_id

        def find() -> SentMessage | None:  # this chat's messages only: benchmarks await thousands of replies
            messages = self.messages.get(chat.id, ())
            return next((m for m in messages if m.message_id > after and not m.deleted), None)

        return await self._wait_value(find, timeout)


def _method_key(method: str | None) -> str | None:
    return method.lower() if method is not None else None


def _command_length(text: str) -> int:
    """UTF-16 length of a leading "/command" or "/command@botname", 0 when the text starts with none."""
    if not text.startswith("/"):
        return 0
    end = 1
    while end < len(text) and text[end] in _BOT_COMMAND_CHARS:
        end += 1
    if end == 1:
        return 0
    if end < len(text) and text[end] == "@":
        name_end = end + 1
        while name_end < len(text) and text[name_end] in _BOT_COMMAND_CHARS:
            name_end += 1
        if name_end > end + 1:
            end = name_end
    return utf16_len(text[:end])
