"""Inline mode in the stand-in: inline queries injected as a user's client sends them, answerInlineQuery
checked as Telegram checks it (../shared/TELEGRAM.md), and the answers kept for tests and the sandbox.

A query can be answered once, within `inline_timeout` seconds; at most 50 results, each with a unique id
of 1-64 bytes; an article needs a title and input_message_content whose message_text parses (HTML when
asked) and is at most 4096 characters; next_offset is at most 64 bytes. `choose_inline_result` plays the
user picking a result: its message appears in the chosen chat as the user's, `via_bot` this bot.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from functools import lru_cache

from bot.core.telegram_html import TelegramHTMLError, parse_html
from bot.sandbox.botapi.methods_buttons import check_markup
from bot.sandbox.botapi.model import JSONDict, bad_request
from bot.sandbox.botapi.state import BotAPIState, int_param

__all__ = ["InlineMethods", "InlineRecord"]

_QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid"
TEXT_LIMIT = 4096


@dataclass(slots=True)
class InlineRecord:
    """One inline query the stand-in delivered, and the bot's answer once it came."""

    id: str
    user_id: int
    query: str
    offset: str
    created: float
    answered: bool = False
    results: list[JSONDict] = field(default_factory=list)
    answer: JSONDict = field(default_factory=dict)  # cache_time, is_personal, next_offset as given


def _results(raw: object) -> list[JSONDict]:
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise bad_request("can't parse inline query results JSON object") from None
    if not isinstance(raw, list) or not all(isinstance(r, dict) for r in raw):
        raise bad_request("can't parse inline query results JSON object")
    return raw


@lru_cache(maxsize=8192)
def _text_length(text: str, *, html: bool) -> int:
    """A message text's length as Telegram counts it, its markup checked (ApiError when it does not parse).

    Remembered: answers repeat the same stories' texts, and Telegram checks them in far less time than
    this module's Python parser would take again."""
    if not html:
        return len(text.encode("utf-16-le")) // 2
    try:
        return parse_html(text).stripped().length
    except TelegramHTMLError as exc:
        raise bad_request(f"can't parse entities: {exc.reason}") from None


def _check_result(result: JSONDict) -> None:
    kind = result.get("type")
    if kind != "article":
        raise bad_request(f"RESULT_TYPE_INVALID: {kind!r} is not modelled by the stand-in")
    if not str(result.get("title") or "").strip():
        raise bad_request("RESULT_TITLE_EMPTY")
    content = result.get("input_message_content")
    if not isinstance(content, dict) or not str(content.get("message_text") or "").strip():
        raise bad_request("MESSAGE_EMPTY")
    text = str(content["message_text"])
    if _text_length(text, html=str(content.get("parse_mode") or "").lower() == "html") > TEXT_LIMIT:
        raise bad_request("MESSAGE_TOO_LONG")
    for key in ("thumbnail_url", "url"):
        value = result.get(key)
        if value is not None and not str(value).startswith(("http://", "https://")):
            raise bad_request(f"{key.upper()}_INVALID")
    if "reply_markup" in result:
        check_markup(result["reply_markup"])


class InlineMethods(BotAPIState):
    """answerInlineQuery and the harness side of inline mode."""

    inline_timeout: float = 10.0
    inline_mode: bool = True  # BotFather's /setinline was done (getMe's supports_inline_queries)

    def inline_answer(self, query_id: str) -> InlineRecord:
        record: InlineRecord = self.inline_queries[query_id]
        return record

    async def answer_inline_query(self, params: JSONDict) -> bool:
        query_id = str(params.get("inline_query_id") or "")
        record = self.inline_queries.get(query_id)
        if record is None or record.answered or time.monotonic() - record.created > self.inline_timeout:
            raise bad_request(_QUERY_INVALID)
        results = _results(params.get("results"))
        if len(results) > 50:
            raise bad_request("RESULTS_TOO_MUCH")
        seen: set[str] = set()
        for result in results:
            rid = str(result.get("id") or "")
            if not 1 <= len(rid.encode()) <= 64:
                raise bad_request("RESULT_ID_INVALID")
            if rid in seen:
                raise bad_request("RESULT_ID_DUPLICATE")
            seen.add(rid)
            _check_result(result)
        next_offset = str(params.get("next_offset") or "")
        if len(next_offset.encode()) > 64:
            raise bad_request("NEXT_OFFSET_INVALID")
        record.answered = True
        record.results = results
        record.answer = {
            "cache_time": int_param(params.get("cache_time"), 300),
            "is_personal": params.get("is_personal") is True,
            "next_offset": next_offset,
        }
        self.publish(
            {
                "event": "inline_answered",
                "query_id": query_id,
                "user_id": record.user_id,
                "query": record.query,
                "results": [
                    {
                        "id": r.get("id"),
                        "title": r.get("title"),
                        "description": r.get("description"),
                        "thumbnail_url": r.get("thumbnail_url"),
                    }
                    for r in results
                ],
                "next_offset": next_offset,
            }
        )
        self.notify()
        return True
