"""The stand-in's documents as python-telegram-bot sees them: sendDocument's multipart upload (filename,
caption limit), a user's document message, getFile and the download under base_file_url."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from telegram import Bot, Update
from telegram.error import BadRequest

from bot.sandbox.botapi import LocalBotAPI

USER = 77


@pytest.fixture
async def api() -> AsyncIterator[LocalBotAPI]:
    async with LocalBotAPI() as server:
        server.add_user(USER)
        yield server


@pytest.fixture
async def bot(api: LocalBotAPI) -> AsyncIterator[Bot]:
    async with Bot(api.token, base_url=api.base_url, base_file_url=api.base_file_url) as client:
        yield client


async def test_send_document_uploads_the_bytes_with_filename_and_caption(api: LocalBotAPI, bot: Bot) -> None:
    body = b'<?xml version="1.0"?><opml version="2.0"/>\n'
    sent = await bot.send_document(USER, body, filename="newsbot-feeds.opml", caption="2 feeds")
    assert sent.document is not None
    assert (sent.document.file_name, sent.document.file_size, sent.caption) == (
        "newsbot-feeds.opml",
        len(body),
        "2 feeds",
    )
    [message] = api.chat_messages(USER)
    assert (message.kind, message.text) == ("document", "2 feeds")
    assert message.document is not None
    assert api.files[message.document["file_id"]].content == body
    again = await bot.send_document(USER, sent.document.file_id)  # a file_id is sent again as it is
    assert again.document is not None
    assert again.document.file_id == sent.document.file_id
    with pytest.raises(BadRequest, match=r"(?i)caption is too long"):
        await bot.send_document(USER, body, filename="x.opml", caption="x" * 1025)
    with pytest.raises(BadRequest, match=r"(?i)file must be non-empty"):
        await bot.send_document(USER, b"", filename="x.opml")
    with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
        await bot.send_document(USER, "nosuchfile")


async def test_a_users_document_is_downloaded_through_get_file(api: LocalBotAPI, bot: Bot) -> None:
    content = bytes(range(256)) * 10
    update_id = api.inject_document("feeds.opml", content, user_id=USER, caption="mine")
    [raw] = await bot.get_updates(timeout=0)
    update = raw if isinstance(raw, Update) else None
    assert update is not None
    assert update.update_id == update_id
    message = update.message
    assert message is not None
    assert message.document is not None
    document = message.document
    assert (document.file_name, document.file_size, message.caption) == ("feeds.opml", 2560, "mine")
    assert document.mime_type
    assert document.file_unique_id
    got = await bot.get_file(document.file_id)
    assert got.file_path == f"{api.base_file_url}{api.token}/{api.files[document.file_id].file_path}"
    assert bytes(await got.download_as_bytearray()) == content
    with pytest.raises(BadRequest, match=r"(?i)invalid file_id"):
        await bot.get_file("BQACAgLocalNope")
    async with httpx.AsyncClient() as http:
        path = api.files[document.file_id].file_path
        assert (await http.get(f"{api.base_file_url}wrong-token/{path}")).status_code == 401
        assert (await http.get(f"{api.base_file_url}{api.token}/documents/none.opml")).status_code == 404
