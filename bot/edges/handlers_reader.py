"""Readers' commands: /latest, /topics, /topic, /search, /subscribe, /unsubscribe and /mytopics.

Thin: each parses its arguments (bot/core/chat_args.py), asks a repository, and replies with text from
bot/core/replies*.py. Rate limiting and error handling wrap them (command_guard.py); admins' commands are
handlers_admin.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import structlog
from telegram import Update
from telegram.ext import Application, CommandHandler

from bot.adapters.repo_reading import ReadingRepo
from bot.adapters.repo_topics import StoredTopic, TopicRepo
from bot.core.chat_args import (
    LIST_DEFAULT,
    LIST_MAX,
    ArgumentError,
    Count,
    clean_text,
    parse_count,
    parse_topic_name,
    split_name_and_count,
)
from bot.core.deeplinks import deep_link, topic_payload
from bot.core.i18n import msg
from bot.core.replies import latest_reply, search_reply, search_usage
from bot.core.replies_admin import topic_rules
from bot.core.replies_groups import GROUP_LIST_DEFAULT, GROUP_LIST_MAX, NO_DAILY_IN_GROUPS
from bot.core.replies_topics import (
    my_topics_reply,
    subscribed,
    topic_reply,
    topics_reply,
    unknown_topic,
    unsubscribed,
)
from bot.core.timeutil import utcnow
from bot.edges.command_guard import Answer, Ctx, RateGate, guarded, is_admin, reply_html, user_id
from bot.edges.handlers_groups import GroupHandlers, in_group, register_group_handlers

if TYPE_CHECKING:
    from bot.edges.runtime import Runtime

log = structlog.get_logger(__name__)

TOPIC_USAGE = msg("Send /topic followed by a topic name, e.g. /topic politics (see /topics).")
SUBSCRIBE_USAGE = msg(
    "Send /subscribe followed by a topic name, e.g. /subscribe politics (see /topics); "
    "add daily for one message a day: /subscribe politics daily."
)
UNSUBSCRIBE_USAGE = msg("Send /unsubscribe followed by a topic name (see /mytopics).")
NO_WORDS = msg("Those are not words I can search for: send letters or digits.")


class ReaderHandlers:
    """Command callbacks bound to the runtime's database (typed, not `bot_data`)."""

    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime
        self.reading = ReadingRepo(runtime.read_db or runtime.db)
        self.topics = TopicRepo(runtime.db)  # subscribe/unsubscribe write through the one writer
        self.topic_reads = TopicRepo(runtime.read_db or runtime.db)  # lookups never queue behind writes
        self.group = GroupHandlers(runtime)  # a group's own topics (its admins choose them)

    async def _topic(self, name: str, update: Update) -> StoredTopic:
        """The topic called `name`; otherwise the command stops, answering with the closest names."""
        found = await self.topic_reads.get(name)
        if found is None:
            names = [t.name for t in await self.topic_reads.all()]
            raise Answer(unknown_topic(name, names, self.rt.translator(update)))
        return found

    async def latest(self, update: Update, context: Ctx) -> None:
        count = _count(update, " ".join(context.args or []))
        articles = await self.reading.latest(count.value)
        await reply_html(
            update, latest_reply(articles, utcnow(), note=count.note, t=self.rt.translator(update))
        )

    async def list_topics(self, update: Update, context: Ctx) -> None:
        topics = [t.topic for t in await self.topic_reads.all()]
        await reply_html(update, topics_reply(topics, self.rt.translator(update)))

    async def topic(self, update: Update, context: Ctx) -> None:
        name, count = split_name_and_count(context.args or [], usage=TOPIC_USAGE, **_limits(update))
        stored = await self._topic(name, update)
        articles = await self.reading.by_topic(stored.id, count.value)
        rules = None
        if is_admin(self.rt.settings, update) and not in_group(update):
            rules = topic_rules(
                stored.topic,
                articles=await self.topic_reads.article_count(stored.id),
                subscribers=await self.topic_reads.subscriber_count(stored.id),
            )
        link = deep_link(context.bot.username, topic_payload(stored.name))
        t = self.rt.translator(update)
        reply = topic_reply(stored.topic, articles, utcnow(), note=count.note, rules=rules, link=link, t=t)
        await reply_html(update, reply)

    async def search(self, update: Update, context: Ctx) -> None:
        text = clean_text(" ".join(context.args or []))
        if not text:
            raise ArgumentError(search_usage())
        count = _count(update, None)
        result = await self.reading.search(text, count.value)
        if not result.words:
            raise ArgumentError(NO_WORDS)
        t = self.rt.translator(update)
        reply = search_reply(result.words, result.articles, utcnow(), all_words=result.all_words, t=t)
        await reply_html(update, reply)

    async def subscribe(self, update: Update, context: Ctx) -> None:
        words = [w for w in (context.args or []) if w.strip()]
        mode = words.pop().lower() if len(words) == 2 and words[1].lower() in ("daily", "each") else "each"
        if len(words) > 1:  # names are one word: "/subscribe x weekly" is a mode we don't have
            raise ArgumentError(SUBSCRIBE_USAGE)
        if in_group(update) and mode == "daily":
            raise ArgumentError(NO_DAILY_IN_GROUPS)
        name = parse_topic_name(" ".join(words), usage=SUBSCRIBE_USAGE)
        if in_group(update):  # the group follows it (its admins only)
            await self.group.subscribe(update, context, await self._topic(name, update))
            return
        uid = _require_user(update)
        stored = await self._topic(name, update)
        t = self.rt.translator(update)
        created = await self.topics.subscribe(uid, stored.id, utcnow(), mode=mode, language=t.language)
        log.info("reader_subscribed", user_id=uid, topic=stored.name, created=created, mode=mode)
        await reply_html(update, subscribed(stored.topic, created=created, daily=mode == "daily", t=t))

    async def unsubscribe(self, update: Update, context: Ctx) -> None:
        name = parse_topic_name(" ".join(context.args or []), usage=UNSUBSCRIBE_USAGE)
        stored = await self._topic(name, update)
        if in_group(update):
            await self.group.unsubscribe(update, context, stored)
            return
        uid = _require_user(update)
        removed = await self.topics.unsubscribe(uid, stored.id)
        log.info("reader_unsubscribed", user_id=uid, topic=stored.name, removed=removed)
        await reply_html(update, unsubscribed(stored.topic, removed=removed, t=self.rt.translator(update)))

    async def my_topics(self, update: Update, context: Ctx) -> None:
        if in_group(update):
            await self.group.my_topics(update, context)
            return
        uid = _require_user(update)
        followed = await self.topic_reads.subscriptions(uid)
        daily = await self.topic_reads.daily_topics(uid)
        t = self.rt.translator(update)
        await reply_html(update, my_topics_reply([x.topic for x in followed], daily=daily, t=t))


def _limits(update: Update) -> dict[str, int]:
    """How many articles a list shows by default and at most: fewer in a group, where replies are short."""
    if in_group(update):
        return {"default": GROUP_LIST_DEFAULT, "maximum": GROUP_LIST_MAX}
    return {"default": LIST_DEFAULT, "maximum": LIST_MAX}


def _count(update: Update, raw: str | None) -> Count:
    return parse_count(raw, **_limits(update))


def _require_user(update: Update) -> int:
    uid = user_id(update)
    if uid is None:
        raise ArgumentError(msg("I can only do that for a user, not for a channel."))
    return uid


def register_reader_handlers(app: Application[Any, Any, Any, Any, Any, Any], runtime: Runtime) -> None:
    """Add the rate gate and the readers' commands, and list them in /help and the menus."""
    RateGate(runtime.settings, translate=runtime.translator).register(app)
    handlers = ReaderHandlers(runtime)
    commands = {
        "latest": handlers.latest,
        "topics": handlers.list_topics,
        "topic": handlers.topic,
        "search": handlers.search,
        "subscribe": handlers.subscribe,
        "unsubscribe": handlers.unsubscribe,
        "mytopics": handlers.my_topics,
    }
    for name, callback in commands.items():
        # block=False: a slow reply (a flood wait) to one reader never holds up the others
        app.add_handler(CommandHandler(name, guarded(name, runtime.translator)(callback), block=False))
    runtime.implemented_commands.update(commands)
    register_group_handlers(app, handlers.group)
