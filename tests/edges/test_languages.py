"""Replies in the reader's language end to end: the real bot against the Bot API stand-in, readers whose
Telegram apps are in English, Simplified Chinese, Malay or a language newsbot doesn't ship, the command
menus set per language, and DEFAULT_LANGUAGE."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.core.commands import GROUP_COMMANDS, READER_COMMANDS
from tests.kits.chatkit import ChatBot, running_bot


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[ChatBot]:
    async with running_bot(tmp_path, COMMAND_BURST="100") as chat:
        yield chat


async def test_simplified_chinese_readers(bot: ChatBot) -> None:
    for code in ("zh-hans", "zh-CN", "zh"):
        latest = await bot.ask("/latest 3", language=code, user_id=601)
        assert latest.text.startswith("🗞 最新文章"), (code, latest.text)
        assert all(line.endswith("前") or line.endswith("刚刚") for line in latest.text.splitlines()[2:])
    assert (await bot.ask("/topics", language="zh-hans")).text.startswith("🏷 话题")
    assert (
        await bot.ask("/latest abc", language="zh-hans")
    ).text == "“abc”不是数字：请发送 1 到 20 之间的数字，例如 10。"
    assert (
        await bot.ask("/topic sprot", language="zh-hans")
    ).text == "没有“sprot”这个话题。你是不是想找 sport？"
    followed = await bot.ask("/subscribe tech", language="zh-hans")
    assert followed.text.startswith("✅ 你已关注 tech：其中每有一篇新文章，我都会私信你。")
    assert (await bot.ask("/mytopics", language="zh-hans")).text.startswith("📬 你关注的话题")
    helped = (await bot.ask("/help", language="zh-hans")).text
    assert helped.startswith("命令：")
    assert "/latest [n] - 最新的 n 篇文章（默认 5 篇，最多 20 篇）" in helped
    assert "/nosuchcommand" not in helped
    assert (await bot.ask("/search", language="zh-hans")).text.startswith("要找什么？请发送 /search 加关键词")
    assert (
        await bot.ask("/start a-999999", language="zh-hans")
    ).text == "这篇文章已不在存档中。发送 /latest 查看最新文章。"
    assert (await bot.ask("/status", language="zh-hans")).text.startswith(
        "抱歉，/status 仅限机器人管理员使用。"
    )


async def test_malay_readers(bot: ChatBot) -> None:
    latest = await bot.ask("/latest 3", language="ms")
    assert latest.text.startswith("🗞 Artikel terbaharu")
    assert all(
        line.endswith(" lalu") or line.endswith("sebentar tadi") for line in latest.text.splitlines()[2:]
    )
    assert (await bot.ask("/subscribe nosuch", language="ms-MY")).text.startswith("Tiada topik “nosuch”.")
    assert (await bot.ask("/search ?!", language="ms")).text == (
        "Itu bukan perkataan yang boleh saya cari: hantar huruf atau digit."
    )
    assert (await bot.ask("/unsubscribe tech", language="ms")).text == "Anda tidak mengikuti tech."
    start = (await bot.ask("/start", language="ms")).text
    assert start.startswith("👋 Hai! Saya menyiarkan setiap artikel baharu")
    assert "Ikuti kami di Telegram untuk berita terkini: t.me/dailynews" in start


async def test_other_and_missing_languages_get_english(bot: ChatBot) -> None:
    for code in ("xx", "pt-br", "zh-TW", None):
        assert (await bot.ask("/latest 2", language=code)).text.startswith("🗞 Latest articles"), code
    assert (await bot.ask("/topic", language="de")).text.startswith("Which topic? Send /topic followed by")


async def test_command_menus_are_set_per_language(bot: ChatBot) -> None:
    names = {c.name for c in READER_COMMANDS}
    menus = {code: bot.api.commands(language_code=code) for code in ("", "en", "zh", "ms")}
    for code, menu in menus.items():
        assert {c["command"] for c in menu} == names, code
    described = {code: {c["command"]: c["description"] for c in menu} for code, menu in menus.items()}
    assert (
        described[""]["latest"]
        == described["en"]["latest"]
        == "The n newest articles (default 5, at most 20)"
    )
    assert described["zh"]["latest"] == "最新的 n 篇文章（默认 5 篇，最多 20 篇）"
    assert described["ms"]["search"] == "Cari tajuk dan ringkasan"
    groups = bot.api.commands({"type": "all_group_chats"}, language_code="zh")
    assert {c["command"] for c in groups} == {c.name for c in GROUP_COMMANDS}
    assert bot.api.calls("setMyCommands")  # and the stand-in refuses what Telegram would:
    assert all(len(c.get("language_code") or "ab") == 2 for c in bot.api.calls("setMyCommands"))


async def test_default_language_is_the_fallback(tmp_path: Path) -> None:
    async with running_bot(tmp_path, articles=20, DEFAULT_LANGUAGE="ms") as bot:
        for code in ("xx", None):
            assert (await bot.ask("/latest 1", language=code)).text.startswith("🗞 Artikel terbaharu"), code
        assert (await bot.ask("/latest 1", language="en-GB")).text.startswith("🗞 Latest articles")
        default_menu = {c["command"]: c["description"] for c in bot.api.commands()}
        assert default_menu["topics"] == "Topik yang boleh anda ikuti"
