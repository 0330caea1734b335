"""Deep links end to end: `/start topic-<name>` asks once and follows on the press, `/start a-<id>` shows
the article, /topic carries the topic's link, and unknown or garbage payloads get a friendly answer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.core.replies_topics import ARTICLE_GONE, UNKNOWN_LINK
from tests.kits.chatkit import ADMIN, READER, ChatBot, running_bot

BOT = "newsbot_test_bot"


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[ChatBot]:
    async with running_bot(tmp_path, articles=60, COMMAND_BURST="100") as chat:
        reply = await chat.ask("/addtopic berlin Berlin | News from Berlin", user_id=ADMIN)
        assert "berlin" in reply.text.lower()
        yield chat


async def test_topic_replies_carry_the_deep_link(bot: ChatBot) -> None:
    reply = await bot.ask("/topic berlin")
    assert f"https://t.me/{BOT}?start=topic-berlin" in reply.text


async def test_a_topic_link_asks_once_then_follows_on_the_press(bot: ChatBot) -> None:
    prompt = await bot.ask("/start topic-berlin")
    assert "Follow berlin" in prompt.text
    assert not bot.query("SELECT 1 FROM subscriptions WHERE user_id = ?", (READER,))  # not before the press
    bot.api.press(READER, prompt.message_id, "✅ Follow berlin", user_id=READER)
    await bot.api.wait_until(lambda: "You now follow" in bot.api.chat_messages(READER)[-1].text, timeout=10)
    assert len(bot.query("SELECT 1 FROM subscriptions WHERE user_id = ?", (READER,))) == 1
    again = await bot.ask("/start topic-berlin")
    bot.api.press(READER, again.message_id, "✅ Follow berlin", user_id=READER)
    await bot.api.wait_until(lambda: "already follow" in bot.api.chat_messages(READER)[-1].text, timeout=10)
    assert len(bot.query("SELECT 1 FROM subscriptions WHERE user_id = ?", (READER,))) == 1


async def test_an_article_link_shows_the_article(bot: ChatBot) -> None:
    article_id, url = bot.query("SELECT id, url FROM articles ORDER BY id DESC LIMIT 1")[0]
    shown = await bot.ask(f"/start a-{article_id}")
    assert url in shown.html
    assert (await bot.ask("/start a-999999999")).text == str(ARTICLE_GONE)


@pytest.mark.parametrize("payload", ["topic-nosuch", "garbage", "topicu-!!", "a-x", "x" * 80])
async def test_unknown_or_garbage_links_get_a_friendly_word(bot: ChatBot, payload: str) -> None:
    reply = await bot.ask(f"/start {payload}")
    if payload == "topic-nosuch":
        assert "There is no topic “nosuch”" in reply.text
    else:
        assert reply.text == str(UNKNOWN_LINK)
