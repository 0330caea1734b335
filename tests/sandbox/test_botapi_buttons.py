"""The stand-in's inline keyboards, callback queries, replies, pins and group privacy, as TELEGRAM.md says."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from bot.sandbox.botapi import LocalBotAPI

CHANNEL = -1001234567890
GROUP = -1009876543210
EDITOR = 42


@pytest.fixture
async def api() -> AsyncIterator[LocalBotAPI]:
    async with LocalBotAPI() as server:
        server.add_chat(CHANNEL, username="newsbot_news", title="News", admins={EDITOR: "creator"})
        server.add_chat(GROUP, title="Editors", type="supergroup", admins={EDITOR: "creator"})
        yield server


@pytest.fixture
async def client(api: LocalBotAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"{api.api_url}/bot{api.token}/", timeout=5.0) as http:
        yield http


async def call(http: httpx.AsyncClient, method: str, **params: Any) -> tuple[int, dict[str, Any]]:
    response = await http.post(method, json=params)
    return response.status_code, response.json()


def keyboard(*buttons: dict[str, Any]) -> dict[str, Any]:
    return {"inline_keyboard": [list(buttons)]}


async def test_callback_data_and_urls_are_checked(client: httpx.AsyncClient) -> None:
    ok = keyboard({"text": "Post", "callback_data": "x" * 64}, {"text": "Read", "url": "https://a.example/"})
    assert (await call(client, "sendMessage", chat_id=GROUP, text="t", reply_markup=ok))[0] == 200
    cases = [
        (keyboard({"text": "Post", "callback_data": "é" * 33}), "Bad Request: BUTTON_DATA_INVALID"),
        (keyboard({"text": "Post", "callback_data": ""}), "Bad Request: BUTTON_DATA_INVALID"),
        (keyboard({"text": "Read", "url": "javascript:alert(1)"}), "Bad Request: BUTTON_URL_INVALID"),
    ]
    for markup, description in cases:
        status, body = await call(client, "sendMessage", chat_id=GROUP, text="t", reply_markup=markup)
        assert (status, body["description"]) == (400, description)
    status, body = await call(
        client, "editMessageReplyMarkup", chat_id=GROUP, message_id=1, reply_markup=cases[0][0]
    )
    assert (status, body["description"]) == (400, "Bad Request: BUTTON_DATA_INVALID")


async def test_press_delivers_the_buttons_data_and_is_answered_once(
    api: LocalBotAPI, client: httpx.AsyncClient
) -> None:
    markup = keyboard(
        {"text": "Post", "callback_data": "rv:p:1"}, {"text": "Skip", "callback_data": "rv:s:1"}
    )
    await call(client, "sendMessage", chat_id=GROUP, text="review", reply_markup=markup)
    with pytest.raises(ValueError, match="no button 'Publish'"):
        api.press(GROUP, 1, "Publish", user_id=EDITOR)
    query_id = api.press(GROUP, 1, "Skip", user_id=EDITOR, first_name="Ada")
    _, body = await call(client, "getUpdates", timeout=0)
    query = body["result"][-1]["callback_query"]
    assert (query["data"], query["from"]["first_name"], query["message"]["message_id"]) == (
        "rv:s:1",
        "Ada",
        1,
    )
    assert api.callback_answer(query_id) is None
    assert (await call(client, "answerCallbackQuery", callback_query_id=query_id, text="Skipped"))[0] == 200
    assert await api.wait_for_callback_answer(query_id) == {"text": "Skipped"}
    again = await call(client, "answerCallbackQuery", callback_query_id=query_id)
    too_old = "Bad Request: query is too old and response timeout expired or query ID is invalid"
    assert again == (400, {"ok": False, "error_code": 400, "description": too_old})
    assert (await call(client, "answerCallbackQuery", callback_query_id="nope"))[1]["description"] == too_old
    late = api.inject_callback_query("forged", chat_id=GROUP, message_id=1, user_id=7)
    api.callbacks[late].created = time.monotonic() - api.callback_timeout - 1
    assert (await call(client, "answerCallbackQuery", callback_query_id=late))[1]["description"] == too_old


async def test_pins_need_rights_and_track_order(api: LocalBotAPI, client: httpx.AsyncClient) -> None:
    for text in ("one", "two"):
        await call(client, "sendMessage", chat_id=CHANNEL, text=text)
    assert (await call(client, "pinChatMessage", chat_id=CHANNEL, message_id=1))[0] == 200
    assert (await call(client, "pinChatMessage", chat_id=CHANNEL, message_id=2, disable_notification=True))[
        0
    ] == 200
    assert api.pinned(CHANNEL) == [1, 2]
    assert (await call(client, "unpinChatMessage", chat_id=CHANNEL, message_id=1))[0] == 200
    assert api.pinned(CHANNEL) == [2]
    status, body = await call(client, "unpinChatMessage", chat_id=CHANNEL, message_id=1)
    assert (status, body["description"]) == (400, "Bad Request: message to unpin not found")
    status, body = await call(client, "pinChatMessage", chat_id=CHANNEL, message_id=99)
    assert (status, body["description"]) == (400, "Bad Request: message to pin not found")
    api.chat(CHANNEL).bot_can_pin = False
    status, body = await call(client, "pinChatMessage", chat_id=CHANNEL, message_id=1)
    assert (status, body["description"]) == (
        400,
        "Bad Request: not enough rights to manage pinned messages in the chat",
    )
    assert api.pinned(CHANNEL) == [2]


async def test_replies_both_ways(api: LocalBotAPI, client: httpx.AsyncClient) -> None:
    _, sent = await call(client, "sendMessage", chat_id=GROUP, text="Reply with the new headline")
    api.inject_message("A new headline", chat_id=GROUP, user_id=EDITOR, reply_to=1)
    _, body = await call(client, "getUpdates", timeout=0)
    message = body["result"][-1]["message"]
    assert message["reply_to_message"]["text"] == "Reply with the new headline"
    _, answer = await call(
        client,
        "sendMessage",
        chat_id=GROUP,
        text="Got it",
        reply_parameters={"message_id": message["message_id"]},
    )
    assert answer["result"]["reply_to_message"]["text"] == "A new headline"
    status, body = await call(
        client, "sendMessage", chat_id=GROUP, text="x", reply_parameters={"message_id": 999}
    )
    assert (status, body["description"]) == (400, "Bad Request: message to be replied not found")
    loose = {"message_id": 999, "allow_sending_without_reply": True}
    assert (await call(client, "sendMessage", chat_id=GROUP, text="x", reply_parameters=loose))[0] == 200
    with pytest.raises(ValueError, match="no message 999"):
        api.inject_message("x", chat_id=GROUP, user_id=EDITOR, reply_to=999)
    assert sent["result"]["message_id"] == 1


async def test_group_privacy_mode_delivers_commands_and_replies_only(
    api: LocalBotAPI, client: httpx.AsyncClient
) -> None:
    await call(client, "sendMessage", chat_id=GROUP, text="from the bot")
    assert api.inject_message("chatting among editors", chat_id=GROUP, user_id=EDITOR) == 0
    api.inject_message("/latest", chat_id=GROUP, user_id=EDITOR)
    api.inject_message("a reply to the bot", chat_id=GROUP, user_id=EDITOR, reply_to=1)
    api.inject_message("a reply to a person", chat_id=GROUP, user_id=7, reply_to=2)
    _, body = await call(client, "getUpdates", timeout=0)
    assert [u["message"].get("text") for u in body["result"]] == ["/latest", "a reply to the bot"]
    api.privacy_mode = False
    assert api.inject_message("now everything", chat_id=GROUP, user_id=EDITOR) > 0


async def test_user_photo_with_a_command_caption(api: LocalBotAPI, client: httpx.AsyncClient) -> None:
    api.inject_photo("/tip the mayor's car <b>", user_id=7)
    _, body = await call(client, "getUpdates", timeout=0)
    message = body["result"][-1]["message"]
    assert message["caption"] == "/tip the mayor's car <b>"
    assert message["caption_entities"] == [{"type": "bot_command", "offset": 0, "length": 4}]
    file_id = message["photo"][-1]["file_id"]
    status, body = await call(client, "sendPhoto", chat_id=GROUP, photo=file_id, caption="Tip")
    assert status == 200
