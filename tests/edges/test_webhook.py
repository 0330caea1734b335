"""Webhook mode end to end: the stand-in calls the bot's own HTTP server with the secret token; forged
calls are refused and change nothing; polling again deletes the webhook; bad settings stop start-up."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest

from bot.core.errors import ConfigError
from bot.edges.app import serve
from bot.edges.http_webhook import SECRET_HEADER, WEBHOOK_PATH
from bot.sandbox.botapi.model import ApiError
from bot.settings import load_settings
from tests.kits.chatkit import READER, running_bot, serving

SECRET = "s3cret_token-for-tests"


def _update(update_id: int, text: str, user_id: int = READER) -> dict[str, object]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": 900 + update_id,
            "date": 1_700_000_000,
            "chat": {"id": user_id, "type": "private", "first_name": "Forger"},
            "from": {"id": user_id, "is_bot": False, "first_name": "Forger"},
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(text.split(maxsplit=1)[0])}],
        },
    }


async def test_webhook_mode_sets_the_webhook_and_answers_through_it(tmp_path: Path) -> None:
    async with running_bot(tmp_path, articles=30, mode="webhook", WEBHOOK_SECRET=SECRET) as bot:
        hook = bot.api.webhook
        assert hook is not None
        assert hook.url == f"{bot.settings.public_url}{WEBHOOK_PATH}"
        assert hook.secret_token == SECRET
        assert hook.allowed_updates is not None
        assert "callback_query" in hook.allowed_updates
        reply = await bot.ask("/latest 3")
        assert reply.text.startswith("🗞 Latest articles")
        assert hook.delivered >= 1
        assert not bot.api.calls("getUpdates")  # no long polling in webhook mode
        info = await bot.api.get_webhook_info({})
        assert info["url"] == hook.url
        assert info["pending_update_count"] == 0


async def test_forged_or_unsigned_calls_get_403_and_change_nothing(tmp_path: Path) -> None:
    async with running_bot(tmp_path, articles=30, mode="webhook", WEBHOOK_SECRET=SECRET) as bot:
        url = f"{bot.settings.public_url}{WEBHOOK_PATH}"
        bot.api.add_user(READER)
        before = len(bot.api.requests)
        async with aiohttp.ClientSession() as session:
            for headers in ({}, {SECRET_HEADER: "wrong"}, {SECRET_HEADER: SECRET + "x"}):
                async with session.post(url, json=_update(777, "/latest 2"), headers=headers) as response:
                    assert response.status == 403
            async with session.post(url, data=b"{not json", headers={SECRET_HEADER: SECRET}) as response:
                assert response.status == 200  # Telegram would only send it again: acknowledged, ignored
            await asyncio.sleep(0.3)
            assert not bot.api.chat_messages(READER)  # nothing answered
            assert not [m for m, _ in bot.api.requests[before:] if m.startswith("send")]
            # the same update with the right secret is acted on
            async with session.post(
                url, json=_update(778, "/latest 2"), headers={SECRET_HEADER: SECRET}
            ) as r:
                assert r.status == 200
        reply = await bot.api.wait_for_reply(READER, timeout=10)
        assert reply.text.startswith("🗞 Latest articles")


async def test_without_a_secret_one_is_made_once_and_kept(tmp_path: Path) -> None:
    async with running_bot(tmp_path, articles=10, mode="webhook") as bot:
        assert bot.api.webhook is not None
        first = bot.api.webhook.secret_token
        assert first is not None
        assert len(first) >= 32
        settings, api = bot.settings, bot.api
        assert (await bot.ask("/latest 1")).text.startswith("🗞")
        row = bot.query("SELECT value FROM bot_state WHERE key = 'webhook_secret'")
        assert row == [(first,)]
    # the next start (same database) uses the same secret
    api.webhook = None
    api.requests.clear()
    async with api:
        again = settings.model_copy(update={"telegram_api_url": api.api_url})  # a new port
        async with serving(api, again):
            assert api.webhook is not None
            assert api.webhook.secret_token == first


async def test_polling_again_deletes_the_webhook(tmp_path: Path) -> None:
    async with running_bot(tmp_path, articles=10, mode="webhook", WEBHOOK_SECRET=SECRET) as bot:
        settings, api = bot.settings, bot.api
        with pytest.raises(ApiError, match="can't use getUpdates method while webhook is active") as refused:
            await api.get_updates({"timeout": 0})
        assert refused.value.status == 409
    assert api.webhook is not None  # left set by the webhook run, as Telegram keeps it
    api.requests.clear()
    async with api:
        polling = settings.model_copy(update={"telegram_mode": "polling", "telegram_api_url": api.api_url})
        async with serving(api, polling):
            assert api.calls("deleteWebhook")
            assert api.webhook is None
            api.inject_message("/latest 1", user_id=READER)
            assert (await api.wait_for_reply(READER, timeout=10)).text.startswith("🗞")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"TELEGRAM_MODE": "webhook"}, "TELEGRAM_MODE: webhook needs PUBLIC_URL and HTTP_LISTEN"),
        (
            {"TELEGRAM_MODE": "webhook", "HTTP_LISTEN": "127.0.0.1:0"},
            "TELEGRAM_MODE: webhook needs PUBLIC_URL",
        ),
    ],
)
async def test_webhook_mode_without_its_server_stops_start_up(
    tmp_path: Path, env: dict[str, str], message: str
) -> None:
    settings = load_settings(None, BOT_TOKEN="1:x", DATABASE_PATH=str(tmp_path / "b.db"), **env)
    with pytest.raises(ConfigError, match=message):
        await serve(settings, asyncio.Event())
