"""The Bot API methods of the local stand-in, answering and failing as Telegram does.

The state they work on and the checks shared by sends are in `state`.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any, cast

from bot.core.telegram_html import ParsedText
from bot.sandbox.botapi.methods_buttons import ButtonMethods, check_markup
from bot.sandbox.botapi.methods_inline import InlineMethods
from bot.sandbox.botapi.model import (
    ApiError,
    Chat,
    JSONDict,
    SentMessage,
    UploadedFile,
    bad_request,
    member_json,
)
from bot.sandbox.botapi.state import float_param, int_param
from bot.sandbox.botapi.webhook import WebhookMethods

Method = Callable[[JSONDict], Awaitable[Any]]
_COMMAND = re.compile(r"[a-z0-9_]{1,32}\Z")
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the same "
    "as a current content and reply markup of the message"
)
_METHODS = {
    "getMe": "get_me",
    "logOut": "ok_true",
    "close": "ok_true",
    "getUpdates": "get_updates",
    "setWebhook": "set_webhook",
    "deleteWebhook": "delete_webhook",
    "getWebhookInfo": "get_webhook_info",
    "setMyCommands": "set_my_commands",
    "deleteMyCommands": "delete_my_commands",
    "getMyCommands": "get_my_commands",
    "getChat": "get_chat",
    "getChatMember": "get_chat_member",
    "getChatAdministrators": "get_chat_administrators",
    "sendMessage": "send_message",
    "sendPhoto": "send_photo",
    "sendDocument": "send_document",
    "getFile": "get_file",
    "sendChatAction": "send_chat_action",
    "editMessageText": "edit_message_text",
    "editMessageCaption": "edit_message_caption",
    "editMessageReplyMarkup": "edit_message_reply_markup",
    "deleteMessage": "delete_message",
    "answerCallbackQuery": "answer_callback_query",
    "answerInlineQuery": "answer_inline_query",
    "pinChatMessage": "pin_chat_message",
    "unpinChatMessage": "unpin_chat_message",
    "unpinAllChatMessages": "unpin_all_chat_messages",
    "setMyDescription": "ok_true",
    "setMyShortDescription": "ok_true",
    "setChatMenuButton": "ok_true",
}
_BY_LOWER = {name.lower(): name for name in _METHODS}


class BotAPIMethods(InlineMethods, WebhookMethods, ButtonMethods):
    """getMe, getUpdates, commands, chats and members, send/edit/delete: one coroutine per Bot API method."""

    def resolve_method(self, name: str) -> tuple[str, Method] | None:
        """The documented name and implementation of a method (names are case-insensitive), or None."""
        canonical = _BY_LOWER.get(name.lower())
        if canonical is None:
            return None
        return canonical, cast(Method, getattr(self, _METHODS[canonical]))

    async def ok_true(self, params: JSONDict) -> bool:
        return True

    async def get_me(self, params: JSONDict) -> JSONDict:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": self.inline_mode,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def get_updates(self, params: JSONDict) -> list[JSONDict]:
        """Long polling: acknowledge below `offset`, answer pending updates or wait up to `timeout` seconds.

        A newer getUpdates terminates an older one still waiting, which answers 409 as Telegram does.
        """
        self.refuse_polling_while_webhook()
        offset = int_param(params.get("offset"), 0)
        limit = min(max(int_param(params.get("limit"), 100), 1), 100)
        timeout = min(max(float_param(params.get("timeout"), 0.0), 0.0), 50.0)
        self.poll_generation += 1
        generation = self.poll_generation
        if offset > 0:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        elif offset < 0:
            self.updates = self.updates[offset:]
        self.notify()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            self.refuse_polling_while_webhook()
            if generation != self.poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            remaining = deadline - loop.time()
            if self.updates or self.closing or remaining <= 0:
                return self.updates[:limit]
            await self.wait_changed(remaining)

    async def set_my_commands(self, params: JSONDict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise bad_request("commands must be an array")
        if len(commands) > 100:
            raise bad_request("BOT_COMMANDS_TOO_MUCH")
        cleaned: list[JSONDict] = []
        for item in commands:
            if not isinstance(item, dict):
                raise bad_request("BOT_COMMAND_INVALID")
            command = str(item.get("command", "")).removeprefix("/").lower()
            description = str(item.get("description", "")).strip()
            if not _COMMAND.match(command):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(description) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            cleaned.append({"command": command, "description": description})
        key = (self.scope_key(params.get("scope")), _language_code(params))
        if cleaned:
            self.my_commands[key] = cleaned
        else:
            self.my_commands.pop(key, None)
        return True

    async def delete_my_commands(self, params: JSONDict) -> bool:
        self.my_commands.pop((self.scope_key(params.get("scope")), _language_code(params)), None)
        return True

    async def get_my_commands(self, params: JSONDict) -> list[JSONDict]:
        key = (self.scope_key(params.get("scope")), _language_code(params))
        return list(self.my_commands.get(key, []))

    def scope_key(self, scope: object) -> tuple[Any, ...]:
        """A hashable key for a BotCommandScope; a chat given as "@name" or id is the same scope."""
        if scope is None:
            return ("default",)
        if not isinstance(scope, dict) or not isinstance(scope.get("type"), str):
            raise bad_request("can't parse BotCommandScope JSON object")
        kind = scope["type"]
        if kind in ("default", "all_private_chats", "all_group_chats", "all_chat_administrators"):
            return (kind,)
        if kind not in ("chat", "chat_administrators", "chat_member"):
            raise bad_request("wrong BotCommandScope type specified")
        raw_chat = scope.get("chat_id")
        chat = self.find_chat(raw_chat)
        if chat is not None:
            chat_id = chat.id
        elif isinstance(raw_chat, int) and not isinstance(raw_chat, bool) and raw_chat > 0:
            chat_id = raw_chat  # a user's chat: accepted even before the user has written to the bot
        else:
            raise bad_request("chat not found")
        if kind == "chat_member":
            return (kind, chat_id, int_param(scope.get("user_id"), 0))
        return (kind, chat_id)

    async def get_chat(self, params: JSONDict) -> JSONDict:
        return self.chat(params.get("chat_id")).to_full_json()

    def member_status(self, chat: Chat, user_id: int) -> str:
        if user_id == self.bot_id:
            return "member" if chat.type == "private" else chat.bot_status
        if chat.type == "private":
            return "member" if user_id == chat.id else "left"
        if user_id in chat.admins:
            return chat.admins[user_id]
        return "left" if chat.type == "channel" else "member"

    async def get_chat_member(self, params: JSONDict) -> JSONDict:
        chat = self.chat(params.get("chat_id"))
        user_id = int_param(params.get("user_id"), 0)
        user = self.bot_user if user_id == self.bot_id else self.users.get(user_id)
        if user is None:
            raise bad_request("user not found")
        can_pin = chat.bot_can_pin if user_id == self.bot_id else True
        return member_json(user, self.member_status(chat, user_id), can_pin=can_pin)

    async def get_chat_administrators(self, params: JSONDict) -> list[JSONDict]:
        chat = self.chat(params.get("chat_id"))
        if chat.type == "private":
            raise bad_request("there are no administrators in the private chat")
        admins = sorted(chat.admins.items(), key=lambda item: item[1] != "creator")
        out = [member_json(self.users[uid], status) for uid, status in admins if uid in self.users]
        if chat.bot_status == "administrator":
            out.append(member_json(self.bot_user, "administrator", can_pin=chat.bot_can_pin))
        return out

    async def send_chat_action(self, params: JSONDict) -> bool:
        self.check_can_send(self.chat(params.get("chat_id")))
        return True

    async def send_message(self, params: JSONDict) -> JSONDict:
        chat = self.chat(params.get("chat_id"))
        self.check_can_send(chat)
        parsed = self.render(params, "text", caption=False)
        preview = params.get("link_preview_options")
        if params.get("disable_web_page_preview") is True and preview is None:
            preview = {"is_disabled": True}
        return self._store(
            chat, params, "text", parsed, preview=preview if isinstance(preview, dict) else None
        )

    async def send_photo(self, params: JSONDict) -> JSONDict:
        chat = self.chat(params.get("chat_id"))
        self.check_can_send(chat)
        photo = params.get("photo")
        if isinstance(photo, str) and photo.startswith("attach://"):
            photo = params.get(photo.removeprefix("attach://"))
        if isinstance(photo, UploadedFile):
            source = f"upload:{photo.filename or 'photo'}"
        elif isinstance(photo, str) and photo.strip():
            source = photo.strip()
            if not source.lower().startswith(("http://", "https://", "agacaglocal")):
                raise bad_request("wrong file identifier/HTTP URL specified")
        else:
            raise bad_request("there is no photo in the request")
        parsed = self.render(params, "caption", caption=True)
        return self._store(chat, params, "photo", parsed, photo=source)

    def _store(
        self,
        chat: Chat,
        params: JSONDict,
        kind: str,
        parsed: ParsedText,
        *,
        preview: JSONDict | None = None,
        photo: str | None = None,
        document: JSONDict | None = None,
    ) -> JSONDict:
        markup = check_markup(params.get("reply_markup"))
        reply_to = self.reply_target(chat, params)
        self.take_send_slot(chat)
        message = SentMessage(
            chat_id=chat.id,
            message_id=chat.next_message_id(),
            date=int(time.time()),
            kind="photo" if kind == "photo" else "document" if kind == "document" else "text",
            text=parsed.text,
            html=str(params.get("text" if kind == "text" else "caption") or ""),
            parse_mode=str(params["parse_mode"]) if params.get("parse_mode") else None,
            entities=parsed.entity_dicts(),
            link_preview_options=preview,
            disable_notification=params.get("disable_notification") is True,
            reply_markup=markup if isinstance(markup, dict) else None,
            photo=photo,
            reply_to=reply_to,
            document=document,
        )
        self.messages.setdefault(chat.id, []).append(message)
        self.stats["sent"] += 1
        self.publish(message.to_event("message_sent", chat))
        self.notify()
        return self.message_json(chat, message)

    def message_json(self, chat: Chat, message: SentMessage) -> JSONDict:
        """The Message JSON of a bot message, with the message it replies to."""
        out = message.to_json(chat, self.bot_user)
        if message.reply_to is not None:
            replied = self.find_message_json(chat, message.reply_to)
            if replied is not None:
                out["reply_to_message"] = replied
        return out

    def bot_message(self, chat: Chat, message_id: int) -> SentMessage | None:
        for message in self.messages.get(chat.id, ()):
            if message.message_id == message_id:
                return message
        return None

    def _message_to_edit(self, params: JSONDict) -> tuple[Chat, SentMessage]:
        if params.get("inline_message_id"):
            raise bad_request("inline messages are not supported by the local Bot API")
        chat = self.chat(params.get("chat_id"))
        message_id = int_param(params.get("message_id"), 0)
        if message_id <= 0:
            raise bad_request("message identifier is not specified")
        self.check_can_send(chat)
        message = self.bot_message(chat, message_id)
        if message is None or message.deleted:
            if (chat.id, message_id) in self.incoming:
                raise bad_request("message can't be edited")
            raise bad_request("message to edit not found")
        return chat, message

    def _edit(self, chat: Chat, message: SentMessage, params: JSONDict, key: str | None) -> JSONDict:
        """Apply an edit of the text or caption (`key`) and the inline keyboard, as Telegram does.

        Missing reply_markup removes the keyboard; an edit changing nothing answers "message is not modified".
        """
        markup = check_markup(params.get("reply_markup"))
        if key is None:
            parsed = ParsedText(message.text)
            entities = message.entities
        else:
            parsed = self.render(params, key, caption=key == "caption")
            entities = parsed.entity_dicts()
        if parsed.text == message.text and entities == message.entities and markup == message.reply_markup:
            raise bad_request(_NOT_MODIFIED)
        self.take_send_slot(chat)
        if key is not None:
            message.history.append(message.html)
            message.text, message.entities = parsed.text, entities
            message.html = str(params.get(key) or "")
            message.parse_mode = str(params["parse_mode"]) if params.get("parse_mode") else None
        message.reply_markup = markup
        preview = params.get("link_preview_options")
        if isinstance(preview, dict):
            message.link_preview_options = preview
        message.edit_date = int(time.time())
        self.stats["edited"] += 1
        self.publish(message.to_event("message_edited", chat))
        self.notify()
        return message.to_json(chat, self.bot_user)

    async def edit_message_text(self, params: JSONDict) -> JSONDict:
        chat, message = self._message_to_edit(params)
        if message.kind != "text":
            raise bad_request("there is no text in the message to edit")
        return self._edit(chat, message, params, "text")

    async def edit_message_caption(self, params: JSONDict) -> JSONDict:
        chat, message = self._message_to_edit(params)
        if message.kind == "text":
            raise bad_request("there is no caption in the message to edit")
        return self._edit(chat, message, params, "caption")

    async def edit_message_reply_markup(self, params: JSONDict) -> JSONDict:
        chat, message = self._message_to_edit(params)
        return self._edit(chat, message, params, None)

    async def delete_message(self, params: JSONDict) -> bool:
        chat = self.chat(params.get("chat_id"))
        message_id = int_param(params.get("message_id"), 0)
        self.check_can_send(chat)
        message = self.bot_message(chat, message_id)
        if message is None or message.deleted:
            if self.incoming.pop((chat.id, message_id), None) is not None:
                return True
            raise bad_request("message to delete not found")
        message.deleted = True
        self.stats["deleted"] += 1
        self.publish(message.to_event("message_deleted", chat))
        self.notify()
        return True


def _language_code(params: JSONDict) -> str:
    """setMyCommands' `language_code`: empty (every language) or a two-letter ISO 639-1 code."""
    code = str(params.get("language_code") or "")
    if code and not re.fullmatch(r"[a-z]{2}", code):
        raise bad_request("LANG_CODE_INVALID")
    return code
