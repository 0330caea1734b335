"""Admins' commands: /status, /feeds, /addfeed, /removefeed, /addtopic, /removetopic, /pause and /resume.

Thin: each checks the sender is in ADMIN_IDS (others are refused politely and logged, nothing changes),
parses its arguments (bot/core/chat_args.py), calls a repository or service, and replies with text from
bot/core/replies_admin.py. Feeds are added through the ingest service when it runs in this process (it
discovers a site's feed); posting is paused through the publisher.
"""

from __future__ import annotations

import asyncio
import html
import socket
from typing import TYPE_CHECKING, Any

import structlog
from telegram import Update
from telegram.ext import Application, CommandHandler

from bot.adapters.repo_dm import DMRepo
from bot.adapters.repo_feeds import FeedRepo
from bot.adapters.repo_groups import GroupRepo
from bot.adapters.repo_reading import ReadingRepo
from bot.adapters.repo_topics import TopicRepo
from bot.core.chat_args import (
    ArgumentError,
    clean_text,
    parse_addtopic,
    parse_feed_ref,
    parse_topic_name,
    parse_url,
)
from bot.core.errors import DuplicateFeedError, NewsbotError
from bot.core.feed_address import check_host_name, check_resolved, feed_host
from bot.core.models import Feed
from bot.core.replies_admin import (
    feed_added,
    feed_removed,
    feeds_reply,
    paused,
    publisher_missing,
    resumed,
    status_extra,
    topic_removed,
    topic_saved,
)
from bot.core.status import status_text
from bot.core.timeutil import utcnow
from bot.edges.cli_stats import collect_status
from bot.edges.command_guard import Ctx, actor_of, admin_only, guarded, reply_html, user_id

if TYPE_CHECKING:
    from bot.edges.runtime import Runtime

log = structlog.get_logger(__name__)

ADDFEED_USAGE = "Usage: /addfeed <url>, e.g. /addfeed https://example.com/feed.xml (a site's page works too)."
REMOVEFEED_USAGE = "Usage: /removefeed <id or url> (ids are in /feeds)."
REMOVETOPIC_USAGE = "Usage: /removetopic <name>."
RESOLVE_TIMEOUT = 10.0


class AdminHandlers:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime
        self.feeds = FeedRepo(runtime.db)
        self.topics = TopicRepo(runtime.db)
        # /status and /feeds only read: the query-only connection never queues behind ingest's writes
        self.read_db = runtime.read_db or runtime.db
        self.feed_reads = FeedRepo(self.read_db)
        self.reading = ReadingRepo(self.read_db)
        self.dms = DMRepo(self.read_db)

    async def status(self, update: Update, context: Ctx) -> None:
        now = utcnow()
        feeds = await self.feed_reads.all()
        snapshot = await collect_status(self.read_db, feeds)
        failing = [f for f in feeds if f.enabled and f.last_error]
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        extra = status_extra(
            posts_today=await self.reading.posts_since(midnight),
            dm_counts=await self.dms.counts(),
            failing=failing,
            groups=await GroupRepo(self.read_db).counts(),
        )
        await reply_html(update, html.escape(status_text(snapshot, now), quote=False) + "\n" + extra)

    async def list_feeds(self, update: Update, context: Ctx) -> None:
        feeds = await self.feed_reads.all()
        await reply_html(update, feeds_reply(feeds, await self.reading.count_by_feed(), utcnow()))

    async def add_feed(self, update: Update, context: Ctx) -> None:
        url = parse_url(" ".join(context.args or []), usage=ADDFEED_USAGE)
        if not self.rt.settings.allow_private_feeds:
            await _check_public(url)
        existing = await self.feeds.by_url(url)
        if existing is not None:
            await reply_html(update, feed_added(existing, created=False))
            return
        ingest = self.rt.ingest
        try:
            feed = await ingest.add_feed(url) if ingest is not None else await self.feeds.add(url, utcnow())
            if feed.url != url and not self.rt.settings.allow_private_feeds:
                await self._check_discovered(feed)
        except DuplicateFeedError:
            found = await self.feeds.by_url(url)
            if found is None:
                raise ArgumentError("That feed is already there; see /feeds.") from None
            await reply_html(update, feed_added(found, created=False))
            return
        except NewsbotError as exc:
            raise ArgumentError(f"Could not add that feed: {exc}") from exc
        log.info("feed_added_by_admin", feed_id=feed.id, url=feed.url, user_id=user_id(update))
        await self.rt.audit.record(actor_of(update), "feed added", f"{feed.id} {feed.url}")
        await reply_html(update, feed_added(feed))

    async def _check_discovered(self, feed: Feed) -> None:
        """A page may link (or redirect to) a feed on a private address: don't keep polling that."""
        try:
            await _check_public(feed.url)
        except ArgumentError:
            await self.feeds.remove(feed.id)
            log.warning("discovered_feed_refused", feed_id=feed.id, url=feed.url)
            raise

    async def remove_feed(self, update: Update, context: Ctx) -> None:
        ref = parse_feed_ref(" ".join(context.args or []), usage=REMOVEFEED_USAGE)
        ingest = self.rt.ingest
        if ingest is not None:
            feed = await ingest.remove_feed(ref)
        else:
            feed = await (self.feeds.get(ref) if isinstance(ref, int) else self.feeds.by_url(ref))
            if feed is not None:
                await self.feeds.remove(feed.id)
        if feed is not None:
            log.info("feed_removed_by_admin", feed_id=feed.id, url=feed.url, user_id=user_id(update))
            await self.rt.audit.record(actor_of(update), "feed removed", f"{feed.id} {feed.url}")
        await reply_html(update, feed_removed(feed, ref))

    async def add_topic(self, update: Update, context: Ctx) -> None:
        topic = parse_addtopic(" ".join(context.args or []))
        now = utcnow()
        stored, created = await self.topics.save(topic, now)
        tagged = await self.topics.retag(stored, now=now)
        log.info(
            "topic_saved_by_admin", topic=topic.name, created=created, tagged=tagged, user_id=user_id(update)
        )
        await self.rt.audit.record(actor_of(update), "topic saved", topic.name)
        await reply_html(update, topic_saved(stored.topic, created=created, tagged=tagged))

    async def remove_topic(self, update: Update, context: Ctx) -> None:
        name = parse_topic_name(" ".join(context.args or []), usage=REMOVETOPIC_USAGE)
        removed = await self.topics.remove(name)
        log.info("topic_removed_by_admin", topic=name, removed=removed, user_id=user_id(update))
        if removed:
            await self.rt.audit.record(actor_of(update), "topic removed", name)
        await reply_html(update, topic_removed(name, removed=removed))

    async def pause(self, update: Update, context: Ctx) -> None:
        publisher = self.rt.publisher
        if publisher is None:
            raise ArgumentError(publisher_missing())
        reason = clean_text(" ".join(context.args or [])) or "paused by an admin"
        await publisher.pause(reason)
        await self.rt.audit.record(actor_of(update), "paused", reason)
        await reply_html(update, paused(reason))

    async def resume(self, update: Update, context: Ctx) -> None:
        publisher = self.rt.publisher
        if publisher is None:
            raise ArgumentError(publisher_missing())
        resumed_chats = await publisher.resume()
        chats = ", ".join("all chats" if chat == "*" else chat for chat in resumed_chats)
        await self.rt.audit.record(actor_of(update), "resumed", chats)
        await reply_html(update, resumed(resumed_chats))


async def _check_public(url: str) -> None:
    """Refuse URLs whose host is, or resolves to, a private or local address (see feed_address.py)."""
    host, port = feed_host(url)
    check_host_name(host)
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(
            loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), timeout=RESOLVE_TIMEOUT
        )
    except (OSError, TimeoutError) as exc:
        raise ArgumentError(f"Could not look up {host}: {exc}") from None
    check_resolved(host, [str(info[4][0]) for info in infos])


def register_admin_handlers(app: Application[Any, Any, Any, Any, Any, Any], runtime: Runtime) -> None:
    """Add the admins' commands (with the /deltopic and /delfeed aliases) and list them in /help and menus."""
    handlers = AdminHandlers(runtime)
    settings = runtime.settings
    commands = {
        "status": handlers.status,
        "feeds": handlers.list_feeds,
        "addfeed": handlers.add_feed,
        "removefeed": handlers.remove_feed,
        "delfeed": handlers.remove_feed,
        "addtopic": handlers.add_topic,
        "removetopic": handlers.remove_topic,
        "deltopic": handlers.remove_topic,
        "pause": handlers.pause,
        "resume": handlers.resume,
    }
    for name, callback in commands.items():
        wrapped = guarded(name, runtime.translator)(admin_only(settings, name, runtime.translator)(callback))
        # block=False: fetching a feed or re-tagging articles never holds up readers' commands
        app.add_handler(CommandHandler(name, wrapped, block=False))
    runtime.implemented_commands.update(commands)
