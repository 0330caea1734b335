"""The stand-in's inline keyboards, callback queries, replies, pins and group privacy, as TELEGRAM.md says."""

from __future__ import annotations

import json
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


async def test_pins_in_groups_need_can_pin_messages(api: LocalBotAPI, client: httpx.AsyncClient) -> None:
    plain = -1005550001
    api.add_chat(plain, title="Readers", type="supergroup", bot_status="member")
    locked = -1005550002
    api.add_chat(locked, title="Desk", type="group", bot_can_pin=False)
    no_rights = "Bad Request: not enough rights to manage pinned messages in the chat"
    for chat_id in (plain, locked):
        await call(client, "sendMessage", chat_id=chat_id, text="pin me")
        status, body = await call(client, "pinChatMessage", chat_id=chat_id, message_id=1)
        assert (status, body["description"]) == (400, no_rights)
        assert api.pinned(chat_id) == []
    _, member = await call(client, "getChatMember", chat_id=locked, user_id=api.bot_id)
    assert (member["result"]["can_pin_messages"], member["result"]["can_edit_messages"]) == (False, False)
    _, member = await call(client, "getChatMember", chat_id=GROUP, user_id=api.bot_id)
    assert member["result"]["can_pin_messages"] is True


async def test_unpin_without_an_id_takes_the_latest_and_unpin_all_clears(
    api: LocalBotAPI, client: httpx.AsyncClient
) -> None:
    events = api.subscribe()
    for text in ("one", "two", "three"):
        await call(client, "sendMessage", chat_id=GROUP, text=text)
    for message_id in (3, 1, 2):
        assert (await call(client, "pinChatMessage", chat_id=GROUP, message_id=message_id))[0] == 200
    assert (await call(client, "pinChatMessage", chat_id=GROUP, message_id=3))[
        0
    ] == 200  # pinned again: latest
    assert api.pinned(GROUP) == [1, 2, 3]
    assert (await call(client, "unpinChatMessage", chat_id=GROUP))[0] == 200
    assert api.pinned(GROUP) == [1, 2]
    assert (await call(client, "unpinAllChatMessages", chat_id=GROUP))[0] == 200
    assert api.pinned(GROUP) == []
    status, body = await call(client, "unpinChatMessage", chat_id=GROUP)
    assert (status, body["description"]) == (400, "Bad Request: message to unpin not found")
    seen = [events.get_nowait() for _ in range(events.qsize())]
    pins = [(e["event"], e["message_id"]) for e in seen if e["event"].startswith("message_")]
    assert pins[3:] == [
        ("message_pinned", 3),
        ("message_pinned", 1),
        ("message_pinned", 2),
        ("message_pinned", 3),
        ("message_unpinned", 3),
        ("message_unpinned", 1),
        ("message_unpinned", 2),
    ]


async def test_markup_in_form_bodies_and_on_every_edit(api: LocalBotAPI, client: httpx.AsyncClient) -> None:
    events = api.subscribe()
    markup = keyboard({"text": "Post", "callback_data": "rv:p:1"})
    form = {"chat_id": str(GROUP), "text": "review", "reply_markup": json.dumps(markup)}
    response = await client.post("sendMessage", data=form)
    assert response.json()["result"]["reply_markup"] == markup
    sent = events.get_nowait()
    assert (sent["event"], sent["reply_markup"]) == ("message_sent", markup)
    await call(client, "sendPhoto", chat_id=GROUP, photo="https://a.example/p.jpg", caption="c")
    bad = json.dumps(keyboard({"text": "Read", "url": "ftp://a.example/"}))
    for method, extra in (("editMessageText", {"text": "new"}), ("editMessageCaption", {"caption": "new"})):
        message_id = 1 if method == "editMessageText" else 2
        fields = {"chat_id": str(GROUP), "message_id": str(message_id), "reply_markup": bad, **extra}
        response = await client.post(method, data=fields)
        assert (response.status_code, response.json()["description"]) == (
            400,
            "Bad Request: BUTTON_URL_INVALID",
        )
    assert api.chat_messages(GROUP)[0].text == "review"
    two_fields = keyboard({"text": "Both", "callback_data": "x", "url": "https://a.example/"})
    assert (await call(client, "sendMessage", chat_id=GROUP, text="t", reply_markup=two_fields))[0] == 400
    no_text = keyboard({"callback_data": "x"})
    assert (await call(client, "sendMessage", chat_id=GROUP, text="t", reply_markup=no_text))[0] == 400
    rows_not_lists = {"inline_keyboard": [{"text": "Post", "callback_data": "x"}]}
    assert (await call(client, "sendMessage", chat_id=GROUP, text="t", reply_markup=rows_not_lists))[0] == 400
    switch = keyboard(
        {"text": "Share", "switch_inline_query": ""}, {"text": "tg", "url": "tg://resolve?domain=x"}
    )
    assert (await call(client, "sendMessage", chat_id=GROUP, text="t", reply_markup=switch))[0] == 200
    edited = keyboard({"text": "Posted", "url": "https://t.me/newsbot_news/1"})
    await call(client, "editMessageReplyMarkup", chat_id=GROUP, message_id=1, reply_markup=edited)
    assert api.buttons(GROUP, 1) == ["Posted"]
    with pytest.raises(ValueError, match="no button 'Posted'"):  # a URL button sends no callback query
        api.press(GROUP, 1, "Posted", user_id=EDITOR)
    seen = [events.get_nowait() for _ in range(events.qsize())]
    assert [e["reply_markup"] for e in seen if e["event"] == "message_edited"] == [edited]


async def test_answers_are_published_and_a_deleted_message_cannot_be_pressed(
    api: LocalBotAPI, client: httpx.AsyncClient
) -> None:
    await call(
        client,
        "sendMessage",
        chat_id=GROUP,
        text="r",
        reply_markup=keyboard({"text": "Go", "callback_data": "g"}),
    )
    events = api.subscribe()
    query_id = api.press(GROUP, 1, "Go", user_id=EDITOR, username="ada", first_name="Ada")
    await call(
        client, "answerCallbackQuery", callback_query_id=query_id, text="Only editors", show_alert=True
    )
    answered = events.get_nowait()
    assert (answered["event"], answered["text"], answered["show_alert"], answered["user_id"]) == (
        "callback_answered",
        "Only editors",
        True,
        EDITOR,
    )
    assert api.callback_answer(query_id) == {"text": "Only editors", "show_alert": True}
    await call(client, "deleteMessage", chat_id=GROUP, message_id=1)
    with pytest.raises(ValueError, match="no button 'Go'"):
        api.press(GROUP, 1, "Go", user_id=EDITOR)


async def test_a_photo_replying_to_the_bot_reaches_it_in_a_group(
    api: LocalBotAPI, client: httpx.AsyncClient
) -> None:
    await call(client, "sendMessage", chat_id=GROUP, text="Send the picture as a reply")
    update_id = api.inject_photo("here", user_id=EDITOR, chat_id=GROUP, reply_to=1)
    assert update_id > 0
    assert api.inject_photo("not to the bot", user_id=EDITOR, chat_id=GROUP) == 0
    _, body = await call(client, "getUpdates", timeout=0)
    message = body["result"][-1]["message"]
    assert (message["caption"], message["reply_to_message"]["message_id"]) == ("here", 1)
    assert "caption_entities" not in message
    assert {"file_id", "file_unique_id", "width", "height"} <= set(message["photo"][0])
