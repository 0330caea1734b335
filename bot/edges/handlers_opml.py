"""OPML in chat: an admin's `/export` gets the feeds as a document (newsbot-feeds.opml), and an `.opml`
(or `.xml`) document an admin sends the bot in private is imported, with the summary as the answer.

Thin: the file is read by bot/core/opml.py (bombs, huge lists and non-OPML refused in one line before any
feed is added) and each feed is added as `/addfeed` adds it, address rules included
(bot/services/feed_import.py counts the outcome). Everyone else is refused in one line.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import structlog
from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application, CommandHandler, MessageHandler, filters

from bot.adapters.repo_feeds import FeedRepo
from bot.core.chat_args import ArgumentError
from bot.core.errors import DuplicateFeedError
from bot.core.opml import MAX_OPML_BYTES, OpmlError, OpmlFeed, export_opml, parse_opml
from bot.core.timeutil import utcnow
from bot.edges.command_guard import Ctx, actor_of, admin_only, guarded, is_admin, reply_html, user_id
from bot.edges.handlers_admin import _check_public
from bot.services.feed_import import import_feeds

if TYPE_CHECKING:
    from bot.edges.runtime import Runtime

log = structlog.get_logger(__name__)

FILENAME = "newsbot-feeds.opml"
XML_TYPES = frozenset(
    {"text/x-opml", "text/xml", "application/xml", "text/x-opml+xml", "application/octet-stream"}
)
NOTE_OVER = 20  # an import of more feeds than this is told it has begun: each feed is fetched
NOT_ADMIN = "Sorry, only the bot's admins can import feeds. /help lists what you can do."
NOT_OPML = "Send an OPML file (.opml or .xml) to import feeds; /export gives one to start from."


class OpmlHandlers:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime
        self.feeds = FeedRepo(runtime.db)
        self.feed_reads = FeedRepo(runtime.read_db or runtime.db)

    async def export(self, update: Update, context: Ctx) -> None:
        feeds = await self.feed_reads.all()
        if not feeds:
            raise ArgumentError("There are no feeds yet; /addfeed adds one, or send me an OPML file.")
        listed = [OpmlFeed(f.url, f.title, f.site_url) for f in feeds]
        document = export_opml(listed, title="newsbot feeds", now=utcnow()).encode()
        message = update.effective_message
        assert message is not None
        await message.reply_document(
            document,
            filename=FILENAME,
            caption=f"{len(listed)} feed(s) as OPML 2.0: any feed reader imports it; send it back to import.",
            do_quote=False,
        )
        log.info("feeds_exported_in_chat", feeds=len(listed), user_id=user_id(update))

    async def on_document(self, update: Update, context: Ctx) -> None:
        message = update.effective_message
        if message is None or message.document is None:
            return
        if not is_admin(self.rt.settings, update):
            log.warning("admin_command_refused", command="import", user_id=user_id(update))
            await reply_html(update, html.escape(NOT_ADMIN, quote=False))
            return
        document = message.document
        name = (document.file_name or "").lower()
        if not name.endswith((".opml", ".xml")) and (document.mime_type or "") not in XML_TYPES:
            raise ArgumentError(NOT_OPML)
        if (document.file_size or 0) > MAX_OPML_BYTES:
            raise ArgumentError(
                f"That file is larger than {MAX_OPML_BYTES // 1024} KiB; nothing was imported."
            )
        try:
            data = bytes(await (await document.get_file()).download_as_bytearray())
        except TelegramError as exc:
            raise ArgumentError(f"Could not download that file from Telegram: {exc.message}") from None
        try:
            feeds = parse_opml(data)
        except OpmlError as exc:
            raise ArgumentError(f"Nothing was imported: {exc}.") from None
        if not feeds:
            raise ArgumentError("That OPML file lists no feeds (no outline has an xmlUrl).")
        if len(feeds) > NOTE_OVER:
            await reply_html(update, f"Importing {len(feeds)} feeds; each is fetched and checked first…")
        summary = await import_feeds(self._add, feeds)
        await self.rt.audit.record(actor_of(update), "feeds imported", summary.line())
        log.info("feeds_imported_in_chat", summary=summary.line(), user_id=user_id(update))
        lines = [f"📥 {html.escape(summary.line().capitalize(), quote=False)}."]
        refusals = summary.refusals(width=200)
        if refusals:
            lines += ["", "<b>Refused:</b>"] + [f"• {html.escape(r, quote=False)}" for r in refusals]
        await reply_html(update, "\n".join(lines))

    async def _add(self, url: str) -> None:
        """One feed, as /addfeed adds it: private addresses refused (unless ALLOW_PRIVATE_FEEDS), the page's
        feed discovered, and a discovered feed on a private address removed again."""
        private_ok = self.rt.settings.allow_private_feeds
        if not private_ok:
            await _check_public(url)
        ingest = self.rt.ingest
        if ingest is None:
            if await self.feeds.by_url(url) is not None:
                raise DuplicateFeedError(f"feed already added: {url}")
            await self.feeds.add(url, utcnow())
            return
        feed = await ingest.add_feed(url)
        if feed.url != url and not private_ok:
            try:
                await _check_public(feed.url)
            except ArgumentError:
                await self.feeds.remove(feed.id)
                log.warning("discovered_feed_refused", feed_id=feed.id, url=feed.url)
                raise


def register_opml_handlers(app: Application[Any, Any, Any, Any, Any, Any], runtime: Runtime) -> None:
    """/export for admins, and documents sent in private (admins import, everyone else is refused)."""
    handlers = OpmlHandlers(runtime)
    export = guarded("export", runtime.translator)(
        admin_only(runtime.settings, "export", runtime.translator)(handlers.export)
    )
    app.add_handler(CommandHandler("export", export, block=False))
    documents = filters.Document.ALL & filters.ChatType.PRIVATE
    app.add_handler(
        MessageHandler(documents, guarded("import", runtime.translator)(handlers.on_document), block=False)
    )
    runtime.implemented_commands.add("export")
