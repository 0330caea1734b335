"""Readers' commands end to end: the real Application against the local Bot API, with a database of
real-looking articles. Each reply is checked as Telegram shows it (text and link entities)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.commands import ADMIN_COMMANDS, READER_COMMANDS
from tests.kits.chatkit import ADMIN, CHANNEL_NAME, READER, ChatBot, bullet_lines, links, running_bot

READER_NAMES = {c.name for c in READER_COMMANDS}
ADMIN_NAMES = {c.name for c in ADMIN_COMMANDS}


@pytest.fixture(params=["polling", "webhook"])
async def bot(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[ChatBot]:
    """The reader tests run with updates by long polling and by webhook (TELEGRAM_MODE)."""
    async with running_bot(tmp_path, mode=request.param, COMMAND_BURST="100") as chat:
        yield chat


def _newest(bot: ChatBot, n: int) -> list[str]:
    rows = bot.query("SELECT url FROM articles ORDER BY published_at DESC, id DESC LIMIT ?", (n,))
    return [r[0] for r in rows]


async def test_start_help_and_menus(bot: ChatBot) -> None:
    start = await bot.ask("/start")
    assert f"Follow us on Telegram for the latest updates: t.me/{CHANNEL_NAME}" in start.text
    assert "/latest [n] - The n newest articles" in start.text  # and it lists the commands
    assert "/topic <name> [n]" in start.text
    help_text = (await bot.ask("/help")).text
    lines = help_text.splitlines()[1:]
    assert [line.split()[0] for line in lines] == [f"/{c.name}" for c in READER_COMMANDS]
    assert "/latest [n] - The n newest articles" in help_text
    assert "/topic <name> [n] - The newest articles in a topic" in help_text
    assert "/addtopic" not in help_text
    admin_help = (await bot.ask("/help", user_id=ADMIN)).text
    assert "/addtopic <name> <keyword>, <keyword>… [#category…] [@channel] [| description]" in admin_help
    assert {line.split()[0][1:] for line in admin_help.splitlines()[1:]} == READER_NAMES | ADMIN_NAMES
    # menus: readers see reader commands only; the admin's private chat gets everything
    assert {c["command"] for c in bot.api.commands()} == READER_NAMES
    admin_menu = bot.api.commands({"type": "chat", "chat_id": ADMIN})
    assert {c["command"] for c in admin_menu} == READER_NAMES | ADMIN_NAMES


async def test_latest_default_clamped_and_bad(bot: ChatBot) -> None:
    reply = await bot.ask("/latest")
    assert reply.text.startswith("🗞 Latest articles")
    assert links(reply) == _newest(bot, 5)
    assert len(bullet_lines(reply)) == 5
    assert all(line.endswith(" ago") or line.endswith("just now") for line in bullet_lines(reply))
    ten = await bot.ask("/latest 10")
    assert links(ten) == _newest(bot, 10)
    many = await bot.ask("/latest 500")
    assert len(links(many)) == 20
    assert many.text.endswith("Showing 20, the most I send at once.")
    zero = await bot.ask("/latest 0")
    assert len(links(zero)) == 1
    assert zero.text.endswith("Showing 1, the fewest I can send.")
    bad = await bot.ask("/latest <b>ten</b>")
    assert bad.text == "“<b>ten</b>” is not a number: send a number from 1 to 20, e.g. 10."
    long = await bot.ask("/latest " + "9" * 300)
    assert long.text == "That is too long: keep it under 200 characters."


async def test_latest_shows_feed_text_exactly_once_escaped(bot: ChatBot) -> None:
    odd = bot.query("SELECT id, headline, url FROM articles WHERE headline LIKE 'AT&T%' ORDER BY id DESC")
    assert odd, "the factory mixes in headlines with markup characters"
    article_id, headline, url = odd[0]
    await bot.write(
        "UPDATE articles SET published_at = ? WHERE id = ?", (int(datetime.now(UTC).timestamp()), article_id)
    )
    reply = await bot.ask("/latest 1")
    assert headline in reply.text  # "AT&T and R&D: <b>not</b> a tag, just text & symbols", as stored
    assert "&amp;" not in reply.text
    assert "&lt;" not in reply.text
    assert links(reply) == [url]


async def test_topics_and_topic(bot: ChatBot) -> None:
    listing = await bot.ask("/topics")
    for name, description in bot.query("SELECT name, description FROM topics"):
        assert f"• {name} — {description}" in listing.text
    tech = await bot.ask("/topic tech 3")
    assert tech.text.startswith("🏷 tech — Technology, science and the internet")
    expected = bot.query(
        "SELECT a.url FROM article_topics t JOIN articles a ON a.id = t.article_id"
        " WHERE t.topic_id = (SELECT id FROM topics WHERE name = 'tech')"
        " ORDER BY t.published_at DESC, t.article_id DESC LIMIT 3"
    )
    assert links(tech) == [r[0] for r in expected]
    assert "Keywords:" not in tech.text  # rules are for admins
    assert len(links(await bot.ask("/topic #TECH"))) == 5
    typo = await bot.ask("/topic tehc")
    assert typo.text == "There is no topic “tehc”. Did you mean tech?"
    far = await bot.ask("/topic zzzzzz")
    assert far.text.startswith("There is no topic “zzzzzz”. Topics: climate, economy, health")
    usage = await bot.ask("/topic")
    assert usage.text.startswith("Which topic? Send /topic followed by a topic name")
    html = await bot.ask("/topic <script>alert(1)</script>")
    assert html.text.startswith("“<script>alert(1)</script>” is not a topic name")


async def test_search(bot: ChatBot) -> None:
    reply = await bot.ask("/search election")
    assert reply.text.startswith("🔎 Results for election")
    found = links(reply)
    assert len(found) == 5
    for url in found:
        text = bot.query("SELECT headline || ' ' || dek FROM articles WHERE url = ?", (url,))[0][0]
        assert "election" in text.lower()
    odd = await bot.ask("/search AT&T <b>")
    assert "AT&T and R&D: <b>not</b> a tag" in odd.text
    before = bot.scalar("SELECT COUNT(*) FROM articles")
    sql = await bot.ask("/search '; DROP TABLE articles; --")
    assert sql.text.startswith("🔎")
    assert bot.scalar("SELECT COUNT(*) FROM articles") == before
    fts = await bot.ask('/search NEAR("a" b) OR headline:* ^x')
    assert fts.text.startswith("🔎")
    emoji = await bot.ask("/search 🚀🚀")
    assert emoji.text == "Those are not words I can search for: send letters or digits."
    empty = await bot.ask("/search")
    assert empty.text.startswith("What should I look for?")
    nothing = await bot.ask("/search qqqqzzzz")
    assert nothing.text == "🔎 Nothing found for qqqqzzzz. Try fewer or other words."


async def test_subscriptions(bot: ChatBot) -> None:
    assert (await bot.ask("/mytopics")).text.startswith("You don't follow any topic yet.")
    sub = await bot.ask("/subscribe Tech")
    assert sub.text.startswith("✅ You now follow tech: I'll send you a private message")
    assert (await bot.ask("/subscribe tech")).text == "You already follow tech."
    await bot.ask("/subscribe sport")
    mine = await bot.ask("/mytopics")
    assert bullet_lines(mine) == ["• sport", "• tech"]
    assert bot.scalar("SELECT COUNT(*) FROM subscriptions WHERE user_id = ?", (READER,)) == 2
    assert (await bot.ask("/unsubscribe tech")).text == "You no longer follow tech."
    assert (await bot.ask("/unsubscribe tech")).text == "You weren't following tech."
    assert (await bot.ask("/subscribe sprot")).text == "There is no topic “sprot”. Did you mean sport?"
    assert (await bot.ask("/subscribe")).text.startswith("Which topic? Send /subscribe")
    group = await bot.ask("/subscribe health", chat_id=-4001)  # a group's topics are its admins' choice
    assert group.text == "Only this group's admins can choose the topics posted here."
    assert bot.scalar("SELECT COUNT(*) FROM subscriptions WHERE user_id = ?", (READER,)) == 1  # sport only


async def test_odd_arguments_get_clear_answers(bot: ChatBot) -> None:
    for text, expected in [
        ("/topic " + "x" * 250, "That is too long: keep it under 200 characters."),
        ("/topic \u202egnp\u200b.exe", "“gnp.exe” is not a topic name"),  # bidi and zero-width gone
        ("/search \x00\x01\x02", "What should I look for?"),
        ("/latest ٣", "🗞 Latest articles"),  # an Arabic-Indic 3 is a number too
    ]:
        reply = await bot.ask(text)
        assert reply.text.startswith(expected) or expected in reply.text, (text, reply.text)


async def test_flooding_reader_is_slowed_without_affecting_others(tmp_path: Path) -> None:
    limits = {"COMMAND_BURST": "3", "COMMAND_PERIOD_SECONDS": "30"}
    async with running_bot(tmp_path, articles=50, private_limit=(3, 1.0), **limits) as bot:
        flooder, other = 777, 778
        for _ in range(8):
            bot.api.inject_message("/latest 1", user_id=flooder)
        reply = await bot.ask("/latest 1", user_id=other)
        assert len(links(reply)) == 1
        await bot.api.wait_until(lambda: len(bot.api.chat_messages(flooder)) >= 4, timeout=10)
        await asyncio.sleep(0.5)
        texts = [m.text for m in bot.api.chat_messages(flooder)]
        assert len(texts) == 4  # three answers and one "slow down"; the other four were ignored
        assert sum(t.startswith("🗞") for t in texts) == 3
        assert sum(t.startswith("🐢 Slow down a little: I'll answer again in about") for t in texts) == 1
        # the admin is never limited
        for _ in range(5):
            bot.api.inject_message("/latest 1", user_id=ADMIN)
        await bot.api.wait_until(lambda: len(bot.api.chat_messages(ADMIN)) >= 5, timeout=10)
        assert all(m.text.startswith("🗞") for m in bot.api.chat_messages(ADMIN))


async def test_a_flood_wait_on_a_reply_is_waited_out(tmp_path: Path) -> None:
    async with running_bot(tmp_path, articles=50, private_limit=(3, 1.0)) as bot:
        bot.api.fail_next("sendMessage", status=429, retry_after=1, chat_id=READER)
        loop = asyncio.get_running_loop()
        started = loop.time()
        bot.api.inject_message("/latest 2", user_id=READER)
        other = await bot.ask("/topics", user_id=779)  # not held up by the reader's wait
        assert other.text.startswith("🏷 Topics")
        assert loop.time() - started < 0.9
        reply = await bot.api.wait_for_reply(READER, timeout=10)
        assert loop.time() - started >= 1.0
        assert len(links(reply)) == 2
        assert bot.api.count_429 == 1
