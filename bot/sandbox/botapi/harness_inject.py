"""Setting up the stand-in's chats and users, and injecting what users do: messages, photos, button presses.

Part of `BotAPIHarness` (see `harness`); group privacy mode decides which user messages reach the bot.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

from bot.core.telegram_html import utf16_len
from bot.sandbox.botapi.methods import BotAPIMethods
from bot.sandbox.botapi.methods_buttons import CallbackRecord
from bot.sandbox.botapi.methods_inline import InlineRecord
from bot.sandbox.botapi.model import BotStatus, Chat, JSONDict, photo_sizes

__all__ = ["InjectionHarness"]

_BOT_COMMAND_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
_callback_ids = itertools.count(1)
_inline_ids = itertools.count(7_000_000_000_001)


# Who a group admin writing anonymously appears as (Telegram's own bot account).
ANONYMOUS_ADMIN: JSONDict = {
    "id": 1087968824,
    "is_bot": True,
    "first_name": "Group",
    "username": "GroupAnonymousBot",
}


class InjectionHarness(BotAPIMethods):
    """Chats, users and what they do to the bot, as a user's Telegram client would."""

    privacy_mode = True  # groups deliver only commands and replies to the bot (Telegram's default)

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
        bot_can_pin: bool = True,
    ) -> Chat:
        """Register a channel or group (type "channel", "supergroup" or "group"); "@username" resolves to it.

        `bot_status` is the bot's membership: "member" in a channel means it may not post, "left" and "kicked"
        answer 403. `admins` maps user ids to "creator" or "administrator" for getChatMember and
        getChatAdministrators. `bot_can_pin=False` takes the bot's pinning right away (can_edit_messages in a
        channel, can_pin_messages in a group): pinChatMessage then answers "not enough rights".
        """
        if bot_status not in ("administrator", "member", "left", "kicked"):
            raise ValueError(f"unknown bot_status {bot_status!r}")
        chat = Chat(chat_id, type, title=title, username=(username or "").lstrip("@") or None)
        chat.bot_status, chat.bot_can_pin = bot_status, bot_can_pin
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
        anonymous: bool = False,
        language_code: str | None = None,
    ) -> int:
        """A user writes `text` (by default in their private chat, created on demand); returns the update_id.

        `language_code` is the user's app language (an IETF tag such as "zh-hans"; Telegram may omit it).

        `anonymous=True`: a group admin writing anonymously, as Telegram shows it: `from` is
        @GroupAnonymousBot and `sender_chat` the group itself.

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
            anonymous=anonymous,
            language_code=language_code,
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
        anonymous: bool = False,
        language_code: str | None = None,
    ) -> int:
        user = self.remember_user(user_id, username=username, first_name=first_name)
        if language_code:
            user = {**user, "language_code": language_code}
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
            "from": ANONYMOUS_ADMIN if anonymous else user,
            **fields,
        }
        if anonymous:
            if chat.type not in ("group", "supergroup") or user_id not in chat.admins:
                raise ValueError("only a group's admins can write anonymously")
            message["sender_chat"] = chat.to_json()
        if photo:
            message["photo"] = photo_sizes(chat.id, message["message_id"])
        if replied is not None:
            message["reply_to_message"] = replied
        command = _command_length(text)
        if command:
            key = "caption_entities" if photo or "caption" in fields else "entities"
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

    def buttons(self, chat_id: int | str, message_id: int) -> list[str]:
        """The labels of the bot message's inline buttons, row by row."""
        message = self.bot_message(self.chat(chat_id), message_id)
        rows = (message.reply_markup or {}).get("inline_keyboard", []) if message else []
        return [str(b.get("text")) for row in rows for b in row]

    # -- inline mode -----------------------------------------------------------------------------------------

    def inject_inline_query(
        self, query: str, *, user_id: int = 1001, offset: str = "", language_code: str | None = None
    ) -> str:
        """A user types `@bot query` in any chat; returns the inline query id."""
        user = dict(
            self.users.get(user_id) or self.remember_user(user_id, username=None, first_name="Reader")
        )
        if language_code is not None:
            user["language_code"] = language_code
        query_id = str(next(_inline_ids))
        self.inline_queries[query_id] = InlineRecord(query_id, user_id, query, offset, time.monotonic())
        self.inject_update(
            {
                "inline_query": {
                    "id": query_id,
                    "from": user,
                    "query": query,
                    "offset": offset,
                    "chat_type": "sender",
                }
            }
        )
        return query_id

    def choose_inline_result(self, query_id: str, result_id: str, *, chat_id: int | str) -> JSONDict:
        """The user picks a result: its message goes to `chat_id` as the user's, via this bot."""
        record = self.inline_answer(query_id)
        result = next((r for r in record.results if str(r.get("id")) == result_id), None)
        if result is None:
            raise ValueError(f"no result {result_id!r} in the answer to inline query {query_id}")
        content: dict[str, Any] = result["input_message_content"]
        message: JSONDict = {
            "chat_id": chat_id,
            "from_user_id": record.user_id,
            "via_bot": self.bot_user["username"],
            "text": str(content["message_text"]),
            "parse_mode": content.get("parse_mode"),
        }
        self.chosen.append(message)
        self.publish({"event": "inline_chosen", **message})
        self.notify()
        return message


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
