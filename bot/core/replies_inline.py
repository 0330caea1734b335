"""Inline mode's answers: each article as an InlineQueryResultArticle (as JSON-ready dicts), pure.

The message a result sends is the channel post (`render.render_post` with POST_TEMPLATE): headline,
dek and link, escaped. Title and description are plain text (Telegram shows them as given), cut to
what a client shows. Pages are `PAGE` results; `next_offset` is the next page's start, "" at the end.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from bot.core.models import StoredArticle
from bot.core.render import render_post
from bot.core.text import truncate

__all__ = ["CACHE_SECONDS", "MAX_OFFSET", "PAGE", "inline_results", "next_offset", "parse_offset"]

PAGE = 20  # results per answer
MAX_OFFSET = 200  # the deepest page start (ten pages): beyond it a query says "no more"
CACHE_SECONDS = 30  # short: new stories show within half a minute; the same for every reader
TITLE_CHARS = 120
DESCRIPTION_CHARS = 200


def parse_offset(offset: str) -> int:
    """The page start Telegram sends back (our own next_offset); anything else is the first page."""
    text = offset.strip()
    if not text.isdecimal() or len(text) > 4:
        return 0
    return min(int(text), MAX_OFFSET)


def next_offset(start: int, found: int) -> str:
    """The next page's start when this page was full and another may follow, else ""."""
    following = start + PAGE
    return str(following) if found > PAGE and following <= MAX_OFFSET else ""


@lru_cache(maxsize=4096)
def _message(  # noqa: PLR0917 - positional: the cache key
    headline: str, dek: str, url: str, source: str, categories: tuple[str, ...], template: str
) -> str:
    """The channel post an inline result sends, remembered by everything it is made of: the same archive
    stories come back for query after query (the latest ones above all), and a correction is a new key."""
    return render_post(
        headline=headline, dek=dek, url=url, source=source, categories=categories, template=template
    )


def inline_results(articles: Sequence[StoredArticle], *, template: str) -> list[dict[str, Any]]:
    """One article result per article (ids are the article ids: unique and stable)."""
    results: list[dict[str, Any]] = []
    for article in articles:
        message = _message(
            article.headline, article.dek, article.url, article.source, article.categories, template
        )
        result: dict[str, Any] = {
            "type": "article",
            "id": f"a{article.id}",
            "title": truncate(article.headline, TITLE_CHARS) or article.url,
            "input_message_content": {"message_text": message, "parse_mode": "HTML"},
            "url": article.url,
        }
        if article.dek:
            result["description"] = truncate(article.dek, DESCRIPTION_CHARS)
        if article.image and article.image.startswith(("https://", "http://")):
            result["thumbnail_url"] = article.image
        results.append(result)
    return results
