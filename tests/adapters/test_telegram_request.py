"""AiohttpRequest, the bot's PTB transport, against a real HTTP server on loopback."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from telegram import Bot, InputFile
from telegram.error import BadRequest, NetworkError, TimedOut

from bot.adapters.telegram_request import AiohttpRequest, _proxy_for
from bot.adapters.telegram_sender import translate
from bot.core.delivery import DeliveryUnknown, TransientError

TOKEN = "123456:SECRET-token-never-in-errors"


class Api:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str, dict[str, str]]] = []
        self.hang = 0.0
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.content_type == "application/json":  # values as JSON types, as Telegram reads them
            fields = {
                k: v if isinstance(v, str) else json.dumps(v) for k, v in (await request.json()).items()
            }
        else:
            form = await request.post()
            fields = {
                k: (v if isinstance(v, str) else f"file:{v.filename}:{v.file.read().decode()}")
                for k, v in form.items()
            }
        self.seen.append((method, request.content_type, fields))
        if self.hang:
            await asyncio.sleep(self.hang)
        if method == "getMe":
            result = {"id": 1, "is_bot": True, "first_name": "B", "username": "b_bot"}
            return web.json_response({"ok": True, "result": result})
        if method == "sendMessage":
            if fields.get("text") == "bad":
                return web.json_response(
                    {"ok": False, "error_code": 400, "description": "Bad Request: nope"}, status=400
                )
            message = {
                "message_id": 7,
                "date": 0,
                "chat": {"id": int(fields["chat_id"]), "type": "private"},
                "text": fields["text"],
            }
            return web.json_response({"ok": True, "result": message})
        if method == "sendDocument":
            message = {"message_id": 8, "date": 0, "chat": {"id": int(fields["chat_id"]), "type": "private"}}
            return web.json_response({"ok": True, "result": message})
        return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)


@pytest.fixture
async def api() -> AsyncIterator[Api]:
    state = Api()
    app = web.Application()
    app.router.add_post("/bot{token}/{method}", state.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    state.url = f"http://127.0.0.1:{port}/bot"
    try:
        yield state
    finally:
        await runner.cleanup()


def bot(url: str, **timeouts: float) -> Bot:
    return Bot(TOKEN, base_url=url, request=AiohttpRequest(**timeouts), get_updates_request=AiohttpRequest())


async def test_calls_send_json_or_multipart_and_return_ptb_objects(api: Api) -> None:
    async with bot(api.url) as b:
        message = await b.send_message(42, "héllo <b>x</b>", parse_mode="HTML")
        assert message.message_id == 7
        assert message.text == "héllo <b>x</b>"
        await b.send_document(42, InputFile(b"file body", filename="a.txt"))
        with pytest.raises(BadRequest, match=r"(?i)nope"):
            await b.send_message(42, "bad")
    sends = [s for s in api.seen if s[0] == "sendMessage"]
    assert sends[0][1] == "application/json"  # one JSON body: Telegram takes it for all but uploads
    assert sends[0][2]["chat_id"] == "42"
    assert sends[0][2]["parse_mode"] == "HTML"
    _, content_type, fields = next(s for s in api.seen if s[0] == "sendDocument")
    assert content_type == "multipart/form-data"
    assert fields["document"] == "file:a.txt:file body"
    assert json.loads(fields["chat_id"]) == 42


async def test_no_answer_in_time_is_a_timeout_that_may_have_been_delivered(api: Api) -> None:
    async with bot(api.url) as b:
        api.hang = 2.0
        with pytest.raises(TimedOut) as caught:
            await b.send_message(42, "slow", read_timeout=0.3)
    assert isinstance(translate(caught.value, "42"), DeliveryUnknown)


async def test_refused_connection_is_a_network_error_without_the_token() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    request = AiohttpRequest(connect_timeout=2)
    await request.initialize()
    try:
        with pytest.raises(NetworkError) as caught:
            await request.post(f"http://127.0.0.1:{port}/bot{TOKEN}/sendMessage", request_data=None)
    finally:
        await request.shutdown()
    assert TOKEN not in str(caught.value)
    assert isinstance(caught.value.__cause__, aiohttp.ClientConnectorError)
    assert isinstance(translate(caught.value, "42"), TransientError)


async def test_a_request_needs_initialize() -> None:
    with pytest.raises(RuntimeError, match="not initialized"):
        await AiohttpRequest().do_request("http://127.0.0.1:9/x", "POST")


def test_proxy_comes_from_the_environment_once_and_honours_no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    _proxy_for.cache_clear()
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    for name in ("https_proxy", "HTTPS_PROXY"):
        monkeypatch.setenv(name, "http://proxy.internal:3128")
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.setenv(name, "localhost,127.0.0.1")
    try:
        assert _proxy_for("https", "api.telegram.org") == "http://proxy.internal:3128"
        assert _proxy_for("https", "127.0.0.1") is None
        assert _proxy_for("http", "api.telegram.org") is None  # no HTTP_PROXY set
    finally:
        _proxy_for.cache_clear()
