"""Deep links: `/start topic-<name>` asks once and follows the topic on the press; `/start a-<id>` shows
that article as the channel posts it. Thin: payloads are parsed in bot/core/deeplinks.py, texts come
from bot/core/replies_topics.py, topics and articles from the repositories. Unknown topics, gone
articles and garbage payloads get a friendly answer, never an error.
"""

from __future__ import annotations

import contextlib
import html
from typing import TYPE_CHECKING, Any

import structlog
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler

from bot.adapters.repo_reading import ReadingRepo
from bot.adapters.repo_topics import TopicRepo
from bot.core.deeplinks import parse_payload
from bot.core.render import render_post
from bot.core.replies_topics import (
    ARTICLE_GONE,
    UNKNOWN_LINK,
    follow_button,
    follow_prompt,
    subscribed,
    unknown_topic,
)
from bot.core.timeutil import utcnow
from bot.edges.command_guard import Ctx, reply_html

if TYPE_CHECKING:
    from bot.edges.runtime import Runtime

log = structlog.get_logger(__name__)

FOLLOW_PREFIX = "follow:"


class DeepLinks:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime
        self.reading = ReadingRepo(runtime.read_db or runtime.db)
        self.topics = TopicRepo(runtime.db)
        self.topic_reads = TopicRepo(runtime.read_db or runtime.db)

    async def start(self, update: Update, payload: str) -> None:
        """Answer `/start <payload>` (the reader opened a deep link)."""
        link = parse_payload(payload)
        t = self.rt.translator(update)
        if link is None:
            log.info("deep_link_unknown", payload=payload[:64])
            await reply_html(update, html.escape(t.render(UNKNOWN_LINK), quote=False))
            return
        if link.kind == "article":
            article = await self.reading.by_id(link.article_id)
            if article is None:
                await reply_html(update, html.escape(t.render(ARTICLE_GONE), quote=False))
                return
            text = render_post(
                headline=article.headline,
                dek=article.dek,
                url=article.url,
                source=article.source,
                categories=article.categories,
                template=self.rt.settings.post_template,
            )
            message = update.effective_message
            if message is not None:
                await message.reply_text(text, parse_mode=ParseMode.HTML, do_quote=False)
            return
        stored = await self.topic_reads.get(link.topic)
        if stored is None:
            names = [t.name for t in await self.topic_reads.all()]
            await reply_html(update, unknown_topic(link.topic, names, t))
            return
        message = update.effective_message
        if message is None:
            return
        button = InlineKeyboardButton(
            follow_button(stored.topic, t), callback_data=f"{FOLLOW_PREFIX}{stored.id}"
        )
        await message.reply_text(
            follow_prompt(stored.topic, t),
            parse_mode=ParseMode.HTML,
            reply_markup=InlineKeyboardMarkup([[button]]),
            link_preview_options=LinkPreviewOptions(is_disabled=True),
            do_quote=False,
        )

    async def follow(self, update: Update, context: Ctx) -> None:
        """The press under a follow prompt: the presser follows the topic; the button goes away."""
        query = update.callback_query
        if query is None or query.data is None:
            return
        topic_id = query.data.removeprefix(FOLLOW_PREFIX)
        t = self.rt.translator(update)  # who pressed
        stored = None
        if topic_id.isdecimal():
            stored = next((t for t in await self.topic_reads.all() if t.id == int(topic_id)), None)
        if stored is None:
            with contextlib.suppress(TelegramError):
                await query.answer(t("That topic is gone. See /topics."))
            return
        created = await self.topics.subscribe(query.from_user.id, stored.id, utcnow(), language=t.language)
        log.info(
            "reader_subscribed", user_id=query.from_user.id, topic=stored.name, created=created, via="link"
        )
        with contextlib.suppress(TelegramError):
            await query.answer(t("✅ Following") if created else t("You already follow it"))
        if query.message is not None:
            with contextlib.suppress(TelegramError):
                await query.edit_message_text(
                    subscribed(stored.topic, created=created, t=t), parse_mode=ParseMode.HTML
                )


def register_deeplink_handlers(app: Application[Any, Any, Any, Any, Any, Any], links: DeepLinks) -> None:
    app.add_handler(CallbackQueryHandler(links.follow, pattern=f"^{FOLLOW_PREFIX}", block=False))
