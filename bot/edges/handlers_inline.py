"""Inline mode: `@bot words` in any chat lists matching archive articles; choosing one sends the channel
post (headline, dek, link). Thin: words and pages from the update, articles from ReadingRepo (the same
ranking and word-by-word quoting as /search, on the read-only connection), results from
bot/core/replies_inline.py. An empty query lists the latest. The answer is the same for every reader
(`is_personal` false) and cached briefly; a query that finds nothing gets an empty answer, which the
client shows as "no results". A failure answers nothing and is logged (the client just shows no results).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import structlog
from telegram import InlineQueryResultArticle, InputTextMessageContent, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import Application, InlineQueryHandler

from bot.adapters.repo_reading import ReadingRepo, search_words
from bot.core.replies_inline import CACHE_SECONDS, PAGE, inline_results, next_offset, parse_offset
from bot.edges.command_guard import Ctx
from bot.edges.http_metrics import COMMAND_SECONDS

if TYPE_CHECKING:
    from bot.edges.runtime import Runtime

log = structlog.get_logger(__name__)


def _result(data: dict[str, Any]) -> InlineQueryResultArticle:
    content = data["input_message_content"]
    return InlineQueryResultArticle(
        id=data["id"],
        title=data["title"],
        input_message_content=InputTextMessageContent(
            content["message_text"], parse_mode=ParseMode.HTML, link_preview_options=None
        ),
        url=data.get("url"),
        description=data.get("description"),
        thumbnail_url=data.get("thumbnail_url"),
    )


class InlineHandlers:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime
        self.reading = ReadingRepo(runtime.read_db or runtime.db)

    async def answer(self, update: Update, context: Ctx) -> None:
        query = update.inline_query
        if query is None:
            return
        started = time.perf_counter()
        start = parse_offset(query.offset)
        wanted = start + PAGE + 1  # one more than the page: is there a next one?
        text = query.query.strip()
        try:
            if text and search_words(text):
                articles = (await self.reading.search(text, wanted)).articles
            elif text:
                articles = []  # only emoji or punctuation: no words to look for
            else:
                articles = await self.reading.latest(wanted)
            page = articles[start : start + PAGE]
            results = inline_results(page, template=self.rt.settings.post_template)
            await query.answer(
                [_result(r) for r in results],
                cache_time=CACHE_SECONDS,
                is_personal=False,
                next_offset=next_offset(start, len(articles) - start),
            )
        except TelegramError as exc:  # too late, or refused: the client shows nothing; log it
            log.warning("inline_answer_failed", error=str(exc), query_len=len(text))
        finally:
            COMMAND_SECONDS.labels("inline").observe(time.perf_counter() - started)


def register_inline_handlers(app: Application[Any, Any, Any, Any, Any, Any], runtime: Runtime) -> None:
    app.add_handler(InlineQueryHandler(InlineHandlers(runtime).answer, block=False))
