"""Inline keyboards, callback queries, replies and pinned messages in the stand-in, as Telegram checks them.

The rules are ../shared/TELEGRAM.md's "Buttons, inline mode, groups, webhooks": callback_data is 1-64
bytes, URL buttons are http(s) or tg://, a callback query is answered once and only for a short while,
pinning needs the right to (can_edit_messages in channels, can_pin_messages in groups).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from bot.sandbox.botapi.model import Chat, JSONDict, SentMessage, bad_request
from bot.sandbox.botapi.state import BotAPIState, int_param

__all__ = ["ButtonMethods", "CallbackRecord"]

_QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid"
_ONE_FIELD = "can't parse inline keyboard button: InlineKeyboardButton must have exactly one optional field"
_BUTTON_KINDS = (
    "callback_data",
    "url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "login_url",
    "web_app",
    "copy_text",
    "pay",
    "callback_game",
)


@dataclass(slots=True)
class CallbackRecord:
    """One callback query the stand-in delivered, and the bot's answer once it came."""

    id: str
    chat_id: int
    message_id: int
    user_id: int
    data: str
    created: float  # the harness clock (monotonic seconds)
    answered: bool = False
    answer: JSONDict = field(default_factory=dict)  # text, show_alert, url as given


def check_markup(markup: object) -> JSONDict | None:
    """The reply_markup of a send or edit, checked as Telegram does; None when absent."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" not in markup:
        if any(k in markup for k in ("force_reply", "remove_keyboard", "keyboard")):
            return markup
        raise bad_request("can't parse reply keyboard markup JSON object")
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays')
    for row in rows:
        for button in row:
            if not isinstance(button, dict) or not str(button.get("text") or "").strip():
                raise bad_request(
                    "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
                )
            kinds = [k for k in _BUTTON_KINDS if k in button]
            if len(kinds) != 1:
                raise bad_request(_ONE_FIELD)
            if "callback_data" in button:
                data = button["callback_data"]
                if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= 64:
                    raise bad_request("BUTTON_DATA_INVALID")
            if "url" in button:
                url = button["url"]
                if not isinstance(url, str) or not url.lower().startswith(("http://", "https://", "tg://")):
                    raise bad_request("BUTTON_URL_INVALID")
    return markup


class ButtonMethods(BotAPIState):
    """answerCallbackQuery, the pin methods and the reply/markup checks sends share."""

    callback_timeout: float = 15.0  # seconds a callback query can be answered for

    # -- replies -------------------------------------------------------------------------------------------

    def reply_target(self, chat: Chat, params: JSONDict) -> int | None:
        """The message a send replies to (reply_parameters or reply_to_message_id), checked to exist."""
        wanted = params.get("reply_parameters")
        allow = params.get("allow_sending_without_reply") is True
        target = 0
        if isinstance(wanted, dict):
            target = int_param(wanted.get("message_id"), 0)
            allow = allow or wanted.get("allow_sending_without_reply") is True
        elif params.get("reply_to_message_id") is not None:
            target = int_param(params.get("reply_to_message_id"), 0)
        if target <= 0:
            return None
        if self.find_message_json(chat, target) is None:
            if allow:
                return None
            raise bad_request("message to be replied not found")
        return target

    def find_message_json(self, chat: Chat, message_id: int) -> JSONDict | None:
        """A message of the chat as Message JSON: the bot's own (not deleted) or a user's."""
        for message in self.messages.get(chat.id, ()):
            if message.message_id == message_id and not message.deleted:
                return message.to_json(chat, self.bot_user)
        return self.incoming.get((chat.id, message_id))

    # -- callback queries ----------------------------------------------------------------------------------

    def record_callback(self, record: CallbackRecord) -> None:
        self.callbacks[record.id] = record

    async def answer_callback_query(self, params: JSONDict) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        record = self.callbacks.get(query_id)
        if record is None or record.answered or time.monotonic() - record.created > self.callback_timeout:
            raise bad_request(_QUERY_INVALID)
        text = params.get("text")
        if text is not None and len(str(text)) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        record.answered = True
        record.answer = {k: params[k] for k in ("text", "show_alert", "url", "cache_time") if k in params}
        self.publish(
            {
                "event": "callback_answered",
                "query_id": query_id,
                "chat_id": record.chat_id,
                "message_id": record.message_id,
                "user_id": record.user_id,
                "text": str(text or ""),
                "show_alert": params.get("show_alert") is True,
            }
        )
        self.notify()
        return True

    # -- pins ----------------------------------------------------------------------------------------------

    def _check_pin_rights(self, chat: Chat) -> None:
        self.check_can_send(chat)
        if chat.type == "private":
            return
        if chat.bot_status != "administrator" or not chat.bot_can_pin:
            raise bad_request("not enough rights to manage pinned messages in the chat")

    def _live_message(self, chat: Chat, message_id: int) -> SentMessage | JSONDict | None:
        for message in self.messages.get(chat.id, ()):
            if message.message_id == message_id and not message.deleted:
                return message
        return self.incoming.get((chat.id, message_id))

    async def pin_chat_message(self, params: JSONDict) -> bool:
        chat = self.chat(params.get("chat_id"))
        self._check_pin_rights(chat)
        message_id = int_param(params.get("message_id"), 0)
        if message_id <= 0 or self._live_message(chat, message_id) is None:
            raise bad_request("message to pin not found")
        pinned = self.pins.setdefault(chat.id, [])
        if message_id in pinned:
            pinned.remove(message_id)
        pinned.append(message_id)
        self._pin_event("message_pinned", chat, message_id, params.get("disable_notification") is True)
        return True

    async def unpin_chat_message(self, params: JSONDict) -> bool:
        chat = self.chat(params.get("chat_id"))
        self._check_pin_rights(chat)
        pinned = self.pins.get(chat.id, [])
        message_id = int_param(params.get("message_id"), 0)
        if message_id <= 0:  # no id: the most recently pinned message
            if not pinned:
                raise bad_request("message to unpin not found")
            message_id = pinned[-1]
        elif message_id not in pinned:
            # Telegram is vague here; the safe reading: unpinning what is not pinned is an error
            raise bad_request("message to unpin not found")
        pinned.remove(message_id)
        self._pin_event("message_unpinned", chat, message_id, True)
        return True

    async def unpin_all_chat_messages(self, params: JSONDict) -> bool:
        chat = self.chat(params.get("chat_id"))
        self._check_pin_rights(chat)
        for message_id in self.pins.pop(chat.id, []):
            self._pin_event("message_unpinned", chat, message_id, True)
        return True

    def _pin_event(self, event: str, chat: Chat, message_id: int, silent: bool) -> None:
        self.stats[event] += 1
        self.publish(
            {
                "event": event,
                "chat_id": chat.id,
                "chat_title": chat.title or chat.first_name,
                "message_id": message_id,
                "disable_notification": silent,
            }
        )
        self.notify()

    def pinned(self, chat_id: int | str) -> list[int]:
        """The chat's pinned message ids, oldest pin first."""
        return list(self.pins.get(self.chat(chat_id).id, []))
