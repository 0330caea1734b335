"""The local Bot API stand-in over real HTTP: wire format, validation, flood limits, faults, polling, PTB."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import math
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from telegram import Bot, BotCommand, BotCommandScopeChat, ChatFullInfo, ChatMemberAdministrator, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter
from telegram.ext import ApplicationBuilder, CommandHandler, ContextTypes

from bot.sandbox.botapi import LocalBotAPI

TOKEN = "123456:TEST-token"
CHANNEL = -1001234567890
CHANNEL_NAME = "@newsbot_news"


class FakeClock:
    """Monotonic seconds the test moves by hand, so flood windows need no sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def api(clock: FakeClock) -> AsyncIterator[LocalBotAPI]:
    async with LocalBotAPI(TOKEN, clock=clock) as server:
        server.add_chat(CHANNEL, username="newsbot_news", title="News", admins={42: "creator"})
        yield server


@pytest.fixture
async def client(api: LocalBotAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"{api.api_url}/bot{TOKEN}/", timeout=5.0) as http:
        yield http


async def call(http: httpx.AsyncClient, method: str, **params: Any) -> tuple[int, dict[str, Any]]:
    response = await http.post(method, json=params)
    return response.status_code, response.json()


async def call_form(http: httpx.AsyncClient, method: str, **params: Any) -> tuple[int, dict[str, Any]]:
    """Encode like python-telegram-bot: strings as they are, everything else as JSON."""
    form = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
    response = await http.post(method, data=form)
    return response.status_code, response.json()


async def send(http: httpx.AsyncClient, chat_id: int | str = CHANNEL, text: str = "hi") -> tuple[int, Any]:
    return await call(http, "sendMessage", chat_id=chat_id, text=text)


# -- wire basics -----------------------------------------------------------------------------------------


async def test_get_me_and_routing(api: LocalBotAPI, client: httpx.AsyncClient) -> None:
    status, body = await call(client, "getMe")
    assert status == 200
    assert body["result"]["id"] == 123456
    assert body["result"]["is_bot"] is True
    assert body["result"]["username"] == "newsbot_test_bot"
    status, body = await call(client, "GETME")  # method names are case-insensitive
    assert status == 200
    status, body = await call(client, "noSuchMethod")
    assert (status, body) == (404, {"ok": False, "error_code": 404, "description": "Not Found"})
    async with httpx.AsyncClient(base_url=api.api_url) as other:
        response = await other.post("/bot999:wrong/getMe")
        assert response.status_code == 401
        assert response.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
        assert (await other.get("/favicon.ico")).status_code == 404
    assert [name for name, _ in api.requests] == ["getMe", "getMe"]


async def test_send_message_html_to_channel_by_username(api: LocalBotAPI, client: httpx.AsyncClient) -> None:
    html = '<b>Headline</b>\n<i>Dek &amp; more</i>\n<a href="https://example.com/a">Read</a>'
    status, body = await call_form(
        client,
        "sendMessage",
        chat_id=CHANNEL_NAME,
        text=html,
        parse_mode="HTML",
        disable_notification=True,
        link_preview_options={"is_disabled": True},
    )
    assert status == 200, body
    message = body["result"]
    assert message["message_id"] == 1
    assert message["chat"] == {"id": CHANNEL, "type": "channel", "title": "News", "username": "newsbot_news"}
    assert message["sender_chat"]["id"] == CHANNEL
    assert message["text"] == "Headline\nDek & more\nRead"
    assert message["entities"] == [
        {"type": "bold", "offset": 0, "length": 8},
        {"type": "italic", "offset": 9, "length": 10},
        {"type": "text_link", "offset": 20, "length": 4, "url": "https://example.com/a"},
    ]
    assert message["link_preview_options"] == {"is_disabled": True}
    [post] = api.channel_posts(CHANNEL)
    assert api.channel_posts(CHANNEL_NAME) == [post]
    assert post.html == html
    assert post.parse_mode == "HTML"
    assert post.disable_notification is True
    assert post.link_preview_options == {"is_disabled": True}
    assert api.messages[CHANNEL] == [post]
    assert api.calls("sendMessage")[0]["disable_notification"] is True
    assert api.count_sent == 1


async def test_unknown_chat_and_bad_html(api: LocalBotAPI, client: httpx.AsyncClient) -> None:
    assert await send(client, "@nobody") == (
        400,
        {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"},
    )
    assert (await send(client, -100999))[0] == 400
    status, body = await call(client, "sendMessage", chat_id=CHANNEL, text="<p>x</p>", parse_mode="HTML")
    assert status == 400
    assert body["description"] == (
        'Bad Request: can\'t parse entities: Unsupported start tag "p" at byte offset 0'
    )
    status, body = await call(client, "sendMessage", chat_id=CHANNEL, text="x", parse_mode="Fancy")
    assert body["description"] == "Bad Request: unsupported parse_mode"
    assert api.channel_posts(CHANNEL) == []
    assert api.count_errors == 4


@pytest.mark.parametrize(
    ("text", "parse_mode", "description"),
    [
        ("x" * 4096, None, None),
        ("<b>" + "x" * 4096 + "</b>", "HTML", None),  # markup does not count
        ("😀" * 2048, None, None),  # 4096 UTF-16 code units
        ("😀" * 2049, None, "Bad Request: message is too long"),  # 2049 characters, 4098 units
        ("x" * 4097, None, "Bad Request: message is too long"),
        ("", None, "Bad Request: message text is empty"),
        ("  \n ", None, "Bad Request: message text is empty"),
        ("<b></b>", "HTML", "Bad Request: message text is empty"),
        ("<b>x</b>" * 101, "HTML", "Bad Request: too many message entities (at most 100)"),
    ],
)
async def test_text_limits(
    client: httpx.AsyncClient, text: str, parse_mode: str | None, description: str | None
) -> None:
    params: dict[str, Any] = {"chat_id": CHANNEL, "text": text}
    if parse_mode:
        params["parse_mode"] = parse_mode
    status, body = await call(client, "sendMessage", **params)
    if description is None:
        assert status == 200, body
    else:
        assert (status, body["description"]) == (400, description)


async def test_send_photo_caption_and_upload(api: LocalBotAPI, client: httpx.AsyncClient) -> None:
    url = "https://example.com/p.jpg"
    status, body = await call(
        client, "sendPhoto", chat_id=CHANNEL, photo=url, caption="<b>Cap</b>", parse_mode="HTML"
    )
    assert status == 200, body
    assert body["result"]["caption"] == "Cap"
    assert body["result"]["caption_entities"] == [{"type": "bold", "offset": 0, "length": 3}]
    assert len(body["result"]["photo"]) == 2
    assert api.channel_posts(CHANNEL)[0].photo == url
    status, body = await call(client, "sendPhoto", chat_id=CHANNEL, photo=url, caption="x" * 1024)
    assert status == 200
    status, body = await call(client, "sendPhoto", chat_id=CHANNEL, photo=url, caption="x" * 1025)
    assert (status, body["description"]) == (400, "Bad Request: message caption is too long")
    status, body = await call(client, "sendPhoto", chat_id=CHANNEL)
    assert (status, body["description"]) == (400, "Bad Request: there is no photo in the request")
    response = await client.post(
        "sendPhoto", data={"chat_id": str(CHANNEL)}, files={"photo": ("p.jpg", b"\xff\xd8jpeg", "image/jpeg")}
    )
    assert response.status_code == 200, response.text
    assert api.channel_posts(CHANNEL)[-1].photo == "upload:p.jpg"


async def test_edit_and_delete(api: LocalBotAPI, client: httpx.AsyncClient) -> None:
    _, body = await call(client, "sendMessage", chat_id=CHANNEL, text="<b>v1</b>", parse_mode="HTML")
    message_id = body["result"]["message_id"]
    status, body = await call(
        client,
        "editMessageText",
        chat_id=CHANNEL_NAME,
        message_id=message_id,
        text="<b>v2</b>",
        parse_mode="HTML",
    )
    assert status == 200, body
    assert body["result"]["text"] == "v2"
    assert "edit_date" in body["result"]
    [post] = api.channel_posts(CHANNEL)
    assert (post.text, post.html, post.history) == ("v2", "<b>v2</b>", ["<b>v1</b>"])
    status, body = await call(
        client, "editMessageText", chat_id=CHANNEL, message_id=message_id, text="<b>v2</b>", parse_mode="HTML"
    )
    assert status == 400
    assert body["description"].startswith("Bad Request: message is not modified")
    # same text, different entities is a modification
    status, _ = await call(client, "editMessageText", chat_id=CHANNEL, message_id=message_id, text="v2")
    assert status == 200
    status, body = await call(client, "editMessageText", chat_id=CHANNEL, message_id=99, text="x")
    assert (status, body["description"]) == (400, "Bad Request: message to edit not found")

    assert await call(client, "deleteMessage", chat_id=CHANNEL, message_id=message_id) == (
        200,
        {"ok": True, "result": True},
    )
    assert api.channel_posts(CHANNEL) == []
    assert api.channel_posts(CHANNEL, include_deleted=True)[0].deleted is True
    status, body = await call(client, "deleteMessage", chat_id=CHANNEL, message_id=message_id)
    assert (status, body["description"]) == (400, "Bad Request: message to delete not found")
    assert (api.count_edited, api.count_deleted) == (2, 1)


async def test_inline_keyboard_callback_and_markup_edit(api: LocalBotAPI, client: httpx.AsyncClient) -> None:
    keyboard = {"inline_keyboard": [[{"text": "More", "callback_data": "more:1"}]]}
    _, body = await call_form(client, "sendMessage", chat_id=CHANNEL, text="pick", reply_markup=keyboard)
    assert body["result"]["reply_markup"] == keyboard
    query_id = api.inject_callback_query("more:1", chat_id=CHANNEL, message_id=1, user_id=42)
    update_id = api.last_update_id
    _, body = await call(client, "getUpdates", offset=update_id, timeout=0)
    query = body["result"][0]["callback_query"]
    assert (query["data"], query["from"]["id"], query["message"]["message_id"]) == ("more:1", 42, 1)
    assert query["id"] == query_id
    assert (await call(client, "answerCallbackQuery", callback_query_id=query["id"]))[0] == 200
    status, body = await call(client, "editMessageReplyMarkup", chat_id=CHANNEL, message_id=1)
    assert status == 200
    assert "reply_markup" not in body["result"]
    status, body = await call(client, "editMessageReplyMarkup", chat_id=CHANNEL, message_id=1)
    assert body["description"].startswith("Bad Request: message is not modified")


# -- flood limits --------------------------------------------------------------------------------------------


async def test_channel_flood_limit_rolling_window(
    api: LocalBotAPI, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    for i in range(20):
        clock.now += 0.5  # 2 messages a second: the global limit is not in play
        assert (await send(client, CHANNEL if i % 2 else CHANNEL_NAME))[0] == 200
    first = clock.now - 9.5
    clock.now += 10.0
    status, body = await send(client, CHANNEL_NAME)  # "@name" and the id share one budget
    expected = math.ceil(first + 60.0 - clock.now)  # 40.5 s until a slot frees: 41
    assert status == 429
    assert body == {
        "ok": False,
        "error_code": 429,
        "description": f"Too Many Requests: retry after {expected}",
        "parameters": {"retry_after": expected},
    }
    assert api.count_429 == 1
    assert len(api.channel_posts(CHANNEL)) == 20
    clock.now = first + 60.0  # the oldest message leaves the window
    assert (await send(client))[0] == 200
    assert (await send(client))[0] == 429


async def test_edits_count_and_other_chats_are_separate(
    api: LocalBotAPI, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    api.channel_window.limit = 2
    await send(client)
    status, _ = await call(client, "editMessageText", chat_id=CHANNEL, message_id=1, text="edited")
    assert status == 200
    assert (await send(client))[0] == 429
    api.add_chat(-1002, username="other", title="Other")
    assert (await send(client, "@other"))[0] == 200


async def test_private_burst_and_global_limit(
    api: LocalBotAPI, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    api.inject_message("/start", user_id=7)
    for _ in range(3):
        assert (await send(client, 7))[0] == 200
    status, body = await send(client, 7)
    assert (status, body["parameters"]["retry_after"]) == (429, 1)
    clock.now += 1.0
    assert (await send(client, 7))[0] == 200

    api.reset_limits()
    api.global_window.limit = 5
    for user in range(100, 105):
        api.inject_message("/start", user_id=user)
        assert (await send(client, user))[0] == 200
    api.inject_message("/start", user_id=200)
    assert (await send(client, 200))[0] == 429
    api.enforce_limits = False
    assert (await send(client, 200))[0] == 200


# -- faults ----------------------------------------------------------------------------------------------


async def test_fail_next_variants(api: LocalBotAPI, client: httpx.AsyncClient) -> None:
    api.fail_next("sendMessage", retry_after=7)
    assert await send(client) == (
        429,
        {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 7",
            "parameters": {"retry_after": 7},
        },
    )
    assert (await send(client))[0] == 200
    api.fail_next("sendMessage", status=502, count=2)
    assert await send(client) == (502, {"ok": False, "error_code": 502, "description": "Bad Gateway"})
    assert (await send(client))[0] == 502
    assert (await send(client))[0] == 200
    api.fail_next(status=500)  # any method
    assert (await call(client, "getMe"))[1]["description"] == "Internal Server Error"
    api.fail_next("sendMessage", status=400, description="Bad Request: custom")
    assert (await send(client))[1]["description"] == "Bad Request: custom"
    api.add_chat(-1002, username="other", title="Other")
    api.fail_next("sendMessage", status=403, chat_id=CHANNEL_NAME, description="Forbidden: nope")
    assert (await send(client, "@other"))[0] == 200
    assert (await send(client, CHANNEL))[0] == 403
    assert api.count_429 == 1


async def test_fail_next_any_method_spares_get_updates(api: LocalBotAPI, client: httpx.AsyncClient) -> None:
    api.fail_next(status=500)
    assert (await call(client, "getUpdates", timeout=0))[0] == 200
    assert (await call(client, "getMe"))[0] == 500


async def test_hang_next_times_out_client_but_still_sends(api: LocalBotAPI) -> None:
    api.hang_next("sendMessage", 0.5)
    async with httpx.AsyncClient(base_url=f"{api.api_url}/bot{TOKEN}/", timeout=0.1) as impatient:
        with pytest.raises(httpx.ReadTimeout):
            await impatient.post("sendMessage", json={"chat_id": CHANNEL, "text": "late"})
    post = await api.wait_for(lambda m: m.text == "late", timeout=2.0)
    assert post.chat_id == CHANNEL


async def test_outage_kick_and_block(api: LocalBotAPI, client: httpx.AsyncClient) -> None:
    api.set_outage(True)
    assert (await call(client, "getMe"))[0] == 502
    api.set_outage(False)
    assert (await call(client, "getMe"))[0] == 200

    api.kick_bot(CHANNEL_NAME)
    assert await send(client) == (
        403,
        {"ok": False, "error_code": 403, "description": "Forbidden: bot was kicked from the channel chat"},
    )
    api.restore_bot(CHANNEL)
    assert (await send(client))[0] == 200

    api.inject_message("hi", user_id=5)
    api.block_bot(5)
    assert (await send(client, 5))[1]["description"] == "Forbidden: bot was blocked by the user"
    api.inject_message("/start", user_id=5)  # writing to the bot again unblocks it
    assert (await send(client, 5))[0] == 200
    api.add_user(6, started=False)
    _, body = await send(client, 6)
    assert body["description"] == "Forbidden: bot can't initiate conversation with a user"
    api.add_chat(-1003, title="Read only", bot_status="member")
    assert (await send(client, -1003))[1]["description"] == (
        "Bad Request: need administrator rights in the channel chat"
    )


# -- updates ---------------------------------------------------------------------------------------------


async def test_long_poll_wakes_on_injection_and_offset_acknowledges(
    api: LocalBotAPI, client: httpx.AsyncClient
) -> None:
    started = time.monotonic()
    poll = asyncio.create_task(call(client, "getUpdates", timeout=5))
    await api.wait_until(lambda: bool(api.calls("getUpdates")))
    update_id = api.inject_message("/start@newsbot_test_bot now", user_id=9, username="ann")
    _, body = await poll
    assert time.monotonic() - started < 2.0
    [update] = body["result"]
    assert update["update_id"] == update_id
    message = update["message"]
    assert message["text"] == "/start@newsbot_test_bot now"
    assert message["entities"] == [{"type": "bot_command", "offset": 0, "length": 23}]
    assert message["chat"] == {"id": 9, "type": "private", "first_name": "Reader", "username": "ann"}
    assert message["from"]["id"] == 9
    # not acknowledged yet: answered again; then acknowledged by offset
    assert len((await call(client, "getUpdates", timeout=0))[1]["result"]) == 1
    assert (await call(client, "getUpdates", offset=update_id + 1, timeout=0))[1]["result"] == []
    assert "entities" not in (await _one_update(api, client, "no command"))["message"]


async def _one_update(api: LocalBotAPI, client: httpx.AsyncClient, text: str) -> dict[str, Any]:
    update_id = api.inject_message(text)
    _, body = await call(client, "getUpdates", offset=update_id, timeout=1)
    return dict(body["result"][0])


async def test_long_poll_answers_empty_at_timeout(client: httpx.AsyncClient) -> None:
    started = time.monotonic()
    assert await call(client, "getUpdates", timeout=0.3) == (200, {"ok": True, "result": []})
    assert 0.25 <= time.monotonic() - started < 1.5


async def test_overlapping_get_updates_conflict(api: LocalBotAPI, client: httpx.AsyncClient) -> None:
    first = asyncio.create_task(call(client, "getUpdates", timeout=3))
    await api.wait_until(lambda: len(api.calls("getUpdates")) == 1)
    second = asyncio.create_task(call(client, "getUpdates", timeout=0.2))
    status, body = await first
    assert status == 409
    assert body["description"] == (
        "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
    )
    assert (await second)[0] == 200


async def test_wait_helpers_time_out(api: LocalBotAPI) -> None:
    with pytest.raises(TimeoutError):
        await api.wait_for_reply(CHANNEL, timeout=0.05)
    with pytest.raises(TimeoutError):
        await api.wait_for(lambda m: True, timeout=0.05)


async def test_events_stream(api: LocalBotAPI, client: httpx.AsyncClient) -> None:
    events = api.subscribe()
    api.inject_message("hello", user_id=3)
    await send(client, text="<b>x</b>")
    await call(client, "editMessageText", chat_id=CHANNEL, message_id=1, text="y")
    await call(client, "deleteMessage", chat_id=CHANNEL, message_id=1)
    await send(client, "@nobody")
    kinds = [events.get_nowait() for _ in range(events.qsize())]
    assert [e["event"] for e in kinds] == [
        "user_message",
        "message_sent",
        "message_edited",
        "message_deleted",
        "api_error",
    ]
    assert kinds[0]["text"] == "hello"
    assert kinds[1]["html"] == "<b>x</b>"
    assert kinds[2]["text"] == "y"
    api.unsubscribe(events)


async def test_commands_per_scope_and_chat_info(api: LocalBotAPI, client: httpx.AsyncClient) -> None:
    admin_scope = {"type": "chat", "chat_id": 42}
    commands = [{"command": "status", "description": "Bot status"}]
    assert (await call_form(client, "setMyCommands", commands=commands, scope=admin_scope))[0] == 200
    default_commands = [{"command": "start", "description": "Go"}]
    assert (await call_form(client, "setMyCommands", commands=default_commands))[0] == 200
    assert api.commands(admin_scope) == commands
    assert api.commands() == default_commands
    assert (await call(client, "getMyCommands", scope=admin_scope))[1]["result"] == commands
    status, body = await call(client, "setMyCommands", commands=[{"command": "Bad-One", "description": "x"}])
    assert (status, body["description"]) == (400, "Bad Request: BOT_COMMAND_INVALID")

    _, body = await call(client, "getChat", chat_id=CHANNEL_NAME)
    assert body["result"]["accent_color_id"] == 0
    assert body["result"]["max_reaction_count"] == 11
    _, body = await call(client, "getChatMember", chat_id=CHANNEL, user_id=123456)
    assert body["result"]["status"] == "administrator"
    assert body["result"]["can_post_messages"] is True
    _, body = await call(client, "getChatAdministrators", chat_id=CHANNEL)
    assert [m["status"] for m in body["result"]] == ["creator", "administrator"]
    status, body = await call(client, "getChatMember", chat_id=CHANNEL, user_id=777)
    assert (status, body["description"]) == (400, "Bad Request: user not found")


# -- python-telegram-bot, unmodified -------------------------------------------------------------------------


async def test_python_telegram_bot_end_to_end(api: LocalBotAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # else constructing RetryAfter warns, an error here

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text("Welcome, <b>reader</b>!", parse_mode=ParseMode.HTML)

    app = ApplicationBuilder().token(TOKEN).base_url(api.base_url).build()
    app.add_handler(CommandHandler("start", start))
    await app.initialize()
    try:
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        await app.start()
        bot: Bot = app.bot
        me = await bot.get_me()
        assert (me.id, me.username) == (123456, "newsbot_test_bot")

        sent = await bot.send_message(CHANNEL_NAME, "<b>Title</b>\nDek", parse_mode=ParseMode.HTML)
        assert sent.chat.id == CHANNEL
        assert sent.text == "Title\nDek"
        edited = await bot.edit_message_text(
            "<b>Title</b>\nNew dek", CHANNEL, sent.message_id, parse_mode="HTML"
        )
        assert edited.text == "Title\nNew dek"
        assert api.channel_posts(CHANNEL)[0].text == "Title\nNew dek"

        chat = await bot.get_chat(CHANNEL_NAME)
        assert isinstance(chat, ChatFullInfo)
        member = await bot.get_chat_member(CHANNEL, me.id)
        assert isinstance(member, ChatMemberAdministrator)
        assert member.can_post_messages is True
        admins = await bot.get_chat_administrators(CHANNEL)
        assert len(admins) == 2

        api.inject_message("/start", user_id=42, username="admin")
        await bot.set_my_commands([BotCommand("status", "Bot status")], scope=BotCommandScopeChat(42))
        admin_menu = api.commands({"type": "chat", "chat_id": 42})
        assert admin_menu == [{"command": "status", "description": "Bot status"}]
        reply = await api.wait_for_reply(42, timeout=5.0)
        assert reply.text == "Welcome, reader!"
        assert reply.entities == [{"type": "bold", "offset": 9, "length": 6}]

        with pytest.raises(BadRequest, match=r"(?i)can't parse entities: unsupported start tag"):
            await bot.send_message(CHANNEL, "<p>x</p>", parse_mode=ParseMode.HTML)
        api.fail_next("sendMessage", retry_after=3)
        with pytest.raises(RetryAfter) as flood:
            await bot.send_message(CHANNEL, "x")
        assert flood.value.retry_after == dt.timedelta(seconds=3)
        api.fail_next("sendMessage", status=502)
        with pytest.raises(NetworkError):
            await bot.send_message(CHANNEL, "x")
        api.kick_bot(CHANNEL)
        with pytest.raises(Forbidden, match="kicked"):
            await bot.send_message(CHANNEL, "x")
    finally:
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()
    # stopping the updater abandons its long poll: no 409 is recorded for it
    assert [error for error in api.errors if error[0] == "getUpdates"] == []
