"""Test controls of the local Bot API stand-in: faults, inspection (callback answers included) and waiting.

Tests and the sandbox drive the stand-in through these; chats, users and what they do are set up in
`harness_inject`, the Bot API methods are in `methods`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import TypeVar

from bot.sandbox.botapi.files import FileHarness
from bot.sandbox.botapi.methods_inline import InlineRecord
from bot.sandbox.botapi.model import ApiError, Fault, JSONDict, SentMessage

T = TypeVar("T")
_EVENT_QUEUE_SIZE = 1000


class BotAPIHarness(FileHarness):
    """What tests do to the stand-in besides calling it: set up chats, inject, break, inspect, wait."""

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

    # -- callback answers ----------------------------------------------------------------------------------

    def callback_answer(self, query_id: str) -> JSONDict | None:
        """The bot's answerCallbackQuery for the query (text, show_alert, …), None until it answered."""
        record = self.callbacks.get(query_id)
        return dict(record.answer) if record is not None and record.answered else None

    async def wait_for_callback_answer(self, query_id: str, timeout: float = 5.0) -> JSONDict:  # noqa: ASYNC109
        """The bot's answer to the query, awaiting it; TimeoutError after `timeout` s."""
        return await self._wait_value(lambda: self.callback_answer(query_id), timeout)

    async def wait_for_inline_answer(self, query_id: str, timeout: float = 5.0) -> InlineRecord:  # noqa: ASYNC109
        """The bot's answer to the inline query, awaiting it; TimeoutError after `timeout` s."""
        record = self.inline_answer(query_id)
        await self.wait_until(lambda: record.answered, timeout=timeout)
        return record

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
