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
from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application, InlineQueryHandler

from bot.adapters.repo_reading import ReadingRepo, search_words
from bot.core.replies_inline import CACHE_SECONDS, PAGE, inline_results, next_offset, parse_offset
from bot.edges.command_guard import Ctx
from bot.edges.http_metrics import COMMAND_SECONDS

if TYPE_CHECKING:
    from bot.edges.runtime import Runtime

log = structlog.get_logger(__name__)


# The raw call: Telegram's method names are case-insensitive ("All methods in the Bot API are
# case-insensitive"), and the lower-case name is not one of PTB's Bot methods, so do_api_request sends our
# result dicts as they are, without its "use Bot.answer_inline_query" warning. PTB's typed path copied
# and re-serialised 20 InlineQueryResultArticle objects: ~3 ms of an answer's ~5 (measured, see README).
ANSWER_INLINE_QUERY = "answerinlinequery"


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
            await context.bot.do_api_request(
                ANSWER_INLINE_QUERY,
                api_kwargs={
                    "inline_query_id": query.id,
                    "results": results,
                    "cache_time": CACHE_SECONDS,
                    "is_personal": False,
                    "next_offset": next_offset(start, len(articles) - start),
                },
            )
        except TelegramError as exc:  # too late, or refused: the client shows nothing; log it
            log.warning("inline_answer_failed", error=str(exc), query_len=len(text))
        finally:
            COMMAND_SECONDS.labels("inline").observe(time.perf_counter() - started)


def register_inline_handlers(app: Application[Any, Any, Any, Any, Any, Any], runtime: Runtime) -> None:
    app.add_handler(InlineQueryHandler(InlineHandlers(runtime).answer, block=False))
