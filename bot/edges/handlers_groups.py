"""Group chats: joining and leaving (my_chat_member), a group upgraded to a supergroup, and the group's own
topic subscriptions, which only its admins may change.

Readers' commands work in groups as in private (handlers_reader.py asks `in_group` to keep lists short and
hands /subscribe, /unsubscribe and /mytopics here). Python-telegram-bot's CommandHandler already ignores
`/latest@otherbot`. Whether a member is a group admin is asked with getChatMember and remembered for
ADMIN_TTL seconds; an admin writing anonymously (the message's sender_chat is the group) is an admin.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import structlog
from telegram import ChatMember, ChatMemberUpdated, Update
from telegram.error import TelegramError
from telegram.ext import Application, ChatMemberHandler, MessageHandler, filters

from bot.adapters.repo_groups import GroupRepo
from bot.adapters.repo_outbox import OutboxRepo
from bot.adapters.repo_topics import StoredTopic
from bot.core.chat_args import ArgumentError
from bot.core.replies_groups import (
    NOT_GROUP_ADMIN,
    group_subscribed,
    group_topics_reply,
    group_unsubscribed,
    group_welcome,
)
from bot.core.timeutil import utcnow
from bot.edges.command_guard import Ctx, reply_html, user_id

if TYPE_CHECKING:
    from bot.edges.runtime import Runtime

log = structlog.get_logger(__name__)

ADMIN_TTL = 60.0  # seconds a getChatMember answer is trusted
_ADMIN_STATUSES = (ChatMember.ADMINISTRATOR, ChatMember.OWNER)
_GONE_STATUSES = (ChatMember.LEFT, ChatMember.BANNED)
_MAX_REMEMBERED = 10_000


def in_group(update: Update) -> bool:
    chat = update.effective_chat
    return chat is not None and chat.type in ("group", "supergroup")


class GroupAdmins:
    """Who may change a group's topics: its creator and administrators, asked with getChatMember."""

    def __init__(self, *, ttl: float = ADMIN_TTL, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._clock = clock
        self._known: dict[tuple[int, int], tuple[bool, float]] = {}
        self.lookups = 0  # getChatMember calls made (the cache's misses)

    async def check(self, update: Update, context: Ctx) -> bool:
        message, chat = update.effective_message, update.effective_chat
        if message is None or chat is None:
            return False
        if message.sender_chat is not None and message.sender_chat.id == chat.id:
            return True  # an admin writing anonymously, as the group itself
        uid = user_id(update)
        if uid is None:
            return False
        now = self._clock()
        known = self._known.get((chat.id, uid))
        if known is not None and known[1] > now:
            return known[0]
        self.lookups += 1
        member = await context.bot.get_chat_member(chat.id, uid)
        allowed = member.status in _ADMIN_STATUSES
        if len(self._known) >= _MAX_REMEMBERED:
            self._known = {k: v for k, v in self._known.items() if v[1] > now}
            if len(self._known) >= _MAX_REMEMBERED:
                self._known.clear()
        self._known[(chat.id, uid)] = (allowed, now + self.ttl)
        return allowed

    def forget(self, chat_id: int) -> None:
        self._known = {k: v for k, v in self._known.items() if k[0] != chat_id}


class GroupHandlers:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime
        self.groups = GroupRepo(runtime.db)
        self.outbox = OutboxRepo(runtime.db)
        self.admins = GroupAdmins()

    async def _require_admin(self, update: Update, context: Ctx, command: str) -> None:
        if not await self.admins.check(update, context):
            log.info("group_command_refused", command=command, user_id=user_id(update))
            raise ArgumentError(NOT_GROUP_ADMIN)

    @staticmethod
    def _chat(update: Update) -> tuple[int, str]:
        chat = update.effective_chat
        assert chat is not None
        return chat.id, chat.title or ""

    async def subscribe(self, update: Update, context: Ctx, stored: StoredTopic) -> None:
        await self._require_admin(update, context, "subscribe")
        chat_id, title = self._chat(update)
        created = await self.groups.subscribe(chat_id, title, stored.id, user_id(update), utcnow())
        log.info("group_subscribed", chat_id=chat_id, topic=stored.name, created=created)
        t = self.rt.translator(update)
        await reply_html(update, group_subscribed(stored.topic, created=created, t=t))

    async def unsubscribe(self, update: Update, context: Ctx, stored: StoredTopic) -> None:
        await self._require_admin(update, context, "unsubscribe")
        chat_id, _ = self._chat(update)
        removed = await self.groups.unsubscribe(chat_id, stored.id)
        log.info("group_unsubscribed", chat_id=chat_id, topic=stored.name, removed=removed)
        t = self.rt.translator(update)
        await reply_html(update, group_unsubscribed(stored.topic, removed=removed, t=t))

    async def my_topics(self, update: Update, context: Ctx) -> None:
        chat_id, _ = self._chat(update)
        topics = [x.topic for x in await self.groups.topics(chat_id)]
        await reply_html(update, group_topics_reply(topics, self.rt.translator(update)))

    async def member_changed(self, update: Update, context: Ctx) -> None:
        """The bot was added to or removed from a chat (my_chat_member)."""
        change: ChatMemberUpdated | None = update.my_chat_member
        if change is None or change.chat.type not in ("group", "supergroup"):
            return
        chat, old, new = change.chat, change.old_chat_member.status, change.new_chat_member.status
        now = utcnow()
        if new in _GONE_STATUSES:
            ended = await self.groups.left(chat.id, f"removed ({new})", now)
            self.admins.forget(chat.id)
            log.info("group_left", chat_id=chat.id, status=new, known=ended)
            return
        await self.groups.joined(chat.id, chat.title or "", now)
        log.info("group_joined", chat_id=chat.id, status=new, by=change.from_user.id)
        if old in _GONE_STATUSES:
            try:
                welcome = group_welcome(self.rt.translator(update))  # who added the bot: their language
                await context.bot.send_message(chat.id, welcome, parse_mode="HTML")
            except TelegramError as exc:
                log.warning("group_welcome_failed", chat_id=chat.id, error=exc.message)

    async def migrated(self, update: Update, context: Ctx) -> None:
        """A group became a supergroup: its topics and queued posts follow it to the new id."""
        message = update.effective_message
        if message is None or message.migrate_to_chat_id is None:
            return
        # the same move as a send's 400 makes the publisher do: topics, then the queue, to the new id
        await self.outbox.move_chat(str(message.chat.id), str(message.migrate_to_chat_id), now=utcnow())
        self.admins.forget(message.chat.id)
        log.info("group_migrated", chat_id=message.chat.id, new_chat_id=message.migrate_to_chat_id)


def register_group_handlers(app: Application[Any, Any, Any, Any, Any, Any], handlers: GroupHandlers) -> None:
    app.add_handler(ChatMemberHandler(handlers.member_changed, ChatMemberHandler.MY_CHAT_MEMBER, block=False))
    app.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, handlers.migrated, block=False))
