"""Inline mode end to end: `@bot words` in any chat through the stand-in, answered by the real
Application from the archive, with the channel post as the message a chosen result sends."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.sandbox.botapi.model import ApiError
from tests.kits.chatkit import READER, ChatBot, running_bot


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[ChatBot]:
    async with running_bot(tmp_path, articles=300) as chat:
        yield chat


def _ids(rows: list[tuple[int]]) -> list[str]:
    return [f"a{r[0]}" for r in rows]


async def test_an_empty_query_lists_the_latest_with_pages(bot: ChatBot) -> None:
    query = bot.api.inject_inline_query("", user_id=READER)
    answer = await bot.api.wait_for_inline_answer(query, timeout=10)
    newest = _ids(bot.query("SELECT id FROM articles ORDER BY published_at DESC, id DESC LIMIT 40"))
    assert [r["id"] for r in answer.results] == newest[:20]
    assert answer.answer == {"cache_time": 30, "is_personal": False, "next_offset": "20"}
    first = answer.results[0]
    assert first["type"] == "article"
    assert first["title"]
    message = first["input_message_content"]
    assert message["parse_mode"] == "HTML"
    assert "<b>" in message["message_text"]
    assert 'href="' in message["message_text"]
    page2 = await bot.api.wait_for_inline_answer(bot.api.inject_inline_query("", offset="20"), timeout=10)
    assert [r["id"] for r in page2.results] == newest[20:40]


async def test_words_rank_like_search_and_choosing_sends_the_post(bot: ChatBot) -> None:
    word = bot.query("SELECT headline FROM articles ORDER BY id DESC LIMIT 1")[0][0].split()[0]
    answer = await bot.api.wait_for_inline_answer(bot.api.inject_inline_query(word), timeout=10)
    assert answer.results
    search = await bot.ask(f"/search {word}")
    linked = re.findall(r'href="([^"]+)"', search.html)
    assert [r["url"] for r in answer.results][: len(linked)] == linked[: len(answer.results)]
    chosen = bot.api.choose_inline_result(answer.id, answer.results[0]["id"], chat_id=-100777)
    assert chosen["via_bot"] == bot.api.bot_user["username"]
    assert answer.results[0]["url"] in chosen["text"]


@pytest.mark.parametrize(
    "text",
    [
        'council AND "budget',  # FTS syntax and an open quote
        "NEAR(a b) title:x * ^ -",
        "🗞️🔥🙂",  # only emoji: no words, no results, no error
        "x" * 256,  # the longest query Telegram sends
        "'; DROP TABLE articles; --",
    ],
)
async def test_hostile_or_odd_queries_get_an_answer_never_an_error(bot: ChatBot, text: str) -> None:
    answer = await bot.api.wait_for_inline_answer(bot.api.inject_inline_query(text), timeout=10)
    assert answer.answered
    assert len(answer.results) <= 20
    assert not [e for e in bot.api.errors if e[0] == "answerInlineQuery"]
    assert bot.query("SELECT COUNT(*) FROM articles")[0][0] == 300


async def test_the_stand_in_checks_answers_as_telegram_does(bot: ChatBot) -> None:
    api = bot.api
    query = api.inject_inline_query("nothing-to-answer-here-xyz")
    await api.wait_for_inline_answer(query, timeout=10)
    with pytest.raises(ApiError, match="query is too old"):  # answered once
        await api.answer_inline_query({"inline_query_id": query, "results": []})
    with pytest.raises(ApiError, match="query is too old"):  # an id Telegram never sent
        await api.answer_inline_query({"inline_query_id": "12345", "results": []})
    api.inline_timeout = 0.0  # every query is already too old
    with pytest.raises(ApiError, match="query is too old"):
        await api.answer_inline_query({"inline_query_id": api.inject_inline_query("late"), "results": []})
    api.inline_timeout = 10.0
    # (each check below answers a new query before the bot can: no await between injecting and answering)
    article = {
        "type": "article",
        "id": "x",
        "title": "T",
        "input_message_content": {"message_text": "<b>ok</b>", "parse_mode": "HTML"},
    }
    bad = [
        ([article, article], "RESULT_ID_DUPLICATE"),
        ([{**article, "id": "y" * 65}], "RESULT_ID_INVALID"),
        ([{**article, "title": ""}], "RESULT_TITLE_EMPTY"),
        ([{**article, "input_message_content": {"message_text": "<b>open", "parse_mode": "HTML"}}], "parse"),
        ([{**article, "id": str(i)} for i in range(51)], "RESULTS_TOO_MUCH"),
    ]
    for results, error in bad:
        other = api.inject_inline_query("checks")
        with pytest.raises(ApiError, match=error):
            await api.answer_inline_query({"inline_query_id": other, "results": results})
