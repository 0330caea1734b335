"""The stand-in's groups, as TELEGRAM.md says: my_chat_member on being added and removed, a group upgraded
to a supergroup (migrate_to_chat_id, then 400 with parameters), anonymous admins; and python-telegram-bot
reading all of it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from telegram import Bot, Update
from telegram.error import ChatMigrated, Forbidden

from bot.sandbox.botapi import LocalBotAPI

GROUP, SUPERGROUP = -4242, -1004242
OWNER, MEMBER = 42, 43


@pytest.fixture
async def api() -> AsyncIterator[LocalBotAPI]:
    async with LocalBotAPI() as server:
        server.add_user(OWNER, first_name="Owner")
        yield server


async def updates(api: LocalBotAPI) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=f"{api.api_url}/bot{api.token}/", timeout=5.0) as http:
        body = (await http.post("getUpdates", json={"timeout": 0})).json()
    assert body["ok"]
    return list(body["result"])


async def test_added_and_removed_arrive_as_my_chat_member(api: LocalBotAPI) -> None:
    api.add_bot_to_group(GROUP, by=OWNER, type="group", title="Readers")
    api.remove_bot_from_group(GROUP, by=OWNER)
    added, removed = await updates(api)
    bot = Bot(api.token, base_url=f"{api.api_url}/bot")
    first, second = Update.de_json(added, bot), Update.de_json(removed, bot)
    assert first.my_chat_member is not None
    assert second.my_chat_member is not None
    assert (first.my_chat_member.chat.id, first.my_chat_member.chat.type) == (GROUP, "group")
    assert first.my_chat_member.from_user.id == OWNER
    assert (first.my_chat_member.old_chat_member.status, first.my_chat_member.new_chat_member.status) == (
        "left",
        "member",
    )
    assert second.my_chat_member.new_chat_member.status == "kicked"
    async with bot:
        with pytest.raises(Forbidden, match="bot was kicked from the group chat"):
            await bot.send_message(GROUP, "hello?")
    with pytest.raises(ValueError, match="not a group"):
        api.add_bot_to_group(-1001, by=OWNER, type="channel")


async def test_a_migrated_group_answers_400_with_its_new_id(api: LocalBotAPI) -> None:
    api.add_bot_to_group(GROUP, by=OWNER, type="group", admins={OWNER: "creator", MEMBER: "administrator"})
    new = api.migrate_group(GROUP, SUPERGROUP, by=OWNER)
    assert (new.type, new.admins) == ("supergroup", {OWNER: "creator", MEMBER: "administrator"})
    kinds = [next(k for k in ("my_chat_member", "message") if k in u) for u in await updates(api)]
    assert kinds == ["my_chat_member", "message", "message"]
    service = [u["message"] for u in (await updates(api))[1:]]
    assert service[0]["chat"]["id"] == GROUP
    assert service[0]["migrate_to_chat_id"] == SUPERGROUP
    assert (service[1]["chat"]["id"], service[1]["migrate_from_chat_id"]) == (SUPERGROUP, GROUP)
    async with httpx.AsyncClient(base_url=f"{api.api_url}/bot{api.token}/", timeout=5.0) as http:
        body = (await http.post("sendMessage", json={"chat_id": GROUP, "text": "x"})).json()
    assert body == {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: group chat was upgraded to a supergroup chat",
        "parameters": {"migrate_to_chat_id": SUPERGROUP},
    }
    async with Bot(api.token, base_url=f"{api.api_url}/bot") as bot:
        with pytest.raises(ChatMigrated) as caught:
            await bot.send_message(GROUP, "x")
        assert caught.value.new_chat_id == SUPERGROUP
        assert (await bot.send_message(SUPERGROUP, "here")).chat.id == SUPERGROUP
    with pytest.raises(ValueError, match="not a basic group"):
        api.migrate_group(SUPERGROUP, -1009999, by=OWNER)


async def test_anonymous_admins_write_as_the_group(api: LocalBotAPI) -> None:
    api.add_bot_to_group(SUPERGROUP, by=OWNER, admins={OWNER: "creator"})
    api.inject_message("/subscribe x", user_id=OWNER, chat_id=SUPERGROUP, anonymous=True)
    message = (await updates(api))[-1]["message"]
    assert message["from"]["username"] == "GroupAnonymousBot"
    assert message["sender_chat"]["id"] == SUPERGROUP
    with pytest.raises(ValueError, match="only a group's admins"):
        api.inject_message("/x", user_id=MEMBER, chat_id=SUPERGROUP, anonymous=True)
