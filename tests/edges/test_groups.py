"""Group chats end to end: the real bot and its ingest process, the Bot API stand-in with a group, a feed
server and update pings. A group admin and a plain member; the group is upgraded to a supergroup, then
removes the bot."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp

from bench.farm import free_port
from bot.core.commands import GROUP_COMMANDS
from bot.sandbox.botapi import SentMessage
from tests.kits.chatkit import poll_until
from tests.kits.newsroomkit import ADA, Newsroom, Story, rss, running_newsroom

GROUP = -4001  # a basic group: it is upgraded to SUPERGROUP below
SUPERGROUP = -1004001
GROUP_ADMIN, MEMBER = 7001, 7002
SITES = ("/two.xml", "/three.xml", "/four.xml")  # a site per phase: pings of one feed coalesce for 10 s
STORIES = [Story("one", "Council approves the budget", category="Politics")]


def group_posts(room: Newsroom, chat_id: int) -> list[SentMessage]:
    """The bot's article posts in a group (sent from the outbox; not its replies to commands)."""
    sent = {r[0] for r in room.query("SELECT message_id FROM outbox WHERE chat_id = ?", (str(chat_id),))}
    return [m for m in room.api.chat_messages(chat_id) if m.message_id in sent]


async def say(
    room: Newsroom, text: str, *, user_id: int, chat_id: int = SUPERGROUP, anonymous: bool = False
) -> str:
    """A member writes in the group; the bot's answer there."""
    room.api.inject_message(
        text, user_id=user_id, chat_id=chat_id, first_name=f"U{user_id}", anonymous=anonymous
    )
    return (await room.api.wait_for_reply(chat_id, timeout=10)).text


async def publish(room: Newsroom, path: str, stories: list[Story], ping: str) -> None:
    """A site publishes and pings the bot, as WordPress does (one site a phase: pings of one feed are
    coalesced for 10 s)."""
    room.feeds.route(path, rss(stories), content_type="application/rss+xml")
    async with aiohttp.ClientSession() as http, http.post(ping, data={"url": room.feeds.url(path)}) as r:
        assert r.status == 202


async def test_a_group_follows_topics_chosen_by_its_admins(tmp_path: Path) -> None:
    port = free_port()
    ping = f"http://127.0.0.1:{port}/ping"
    env = {
        "REVIEW": "off",
        "COMMAND_BURST": "100",
        "HTTP_LISTEN": f"127.0.0.1:{port}",
        "POLL_INTERVAL_SECONDS": "3600",
    }
    async with running_newsroom(tmp_path, STORIES, more_feeds=SITES, **env) as room:
        await _scenario(room, ping)


async def _scenario(room: Newsroom, ping: str) -> None:
    api = room.api
    await poll_until(lambda: len(room.posts()) == 1, timeout=20)  # the first sync of the first feed
    api.inject_message("/addtopic climate flood, storm", user_id=ADA, first_name="Ada")
    assert (await api.wait_for_reply(ADA, timeout=10)).text.startswith("✅ Topic climate added")

    group_menu = {c["command"] for c in api.commands({"type": "all_group_chats"})}
    assert group_menu == {c.name for c in GROUP_COMMANDS}

    # added to a group: a short welcome, and the group is known
    api.add_bot_to_group(GROUP, by=GROUP_ADMIN, type="group", admins={GROUP_ADMIN: "creator"})
    welcome = await api.wait_for_reply(GROUP, timeout=10)
    assert welcome.text.startswith("👋 Thanks for adding me!")
    await poll_until(lambda: room.query("SELECT state FROM group_chats") == [("member",)])

    # a plain member may read but not choose the group's topics; nothing changes
    refused = await say(room, "/subscribe climate", user_id=MEMBER, chat_id=GROUP)
    assert refused == "Only this group's admins can choose the topics posted here."
    assert room.query("SELECT COUNT(*) FROM group_subscriptions") == [(0,)]
    assert (await say(room, "/unsubscribe climate", user_id=MEMBER, chat_id=GROUP)).startswith("Only this")
    latest = await say(room, "/latest@newsbot_test_bot", user_id=MEMBER, chat_id=GROUP)
    assert latest.startswith("🗞 Latest articles")
    started = await say(room, "/start", user_id=MEMBER, chat_id=GROUP)
    assert "/subscribe <topic> - Group admins" in started
    assert "/tip" not in started
    helped = await say(room, "/help", user_id=MEMBER, chat_id=GROUP)
    assert "/subscribe <topic> - Group admins: post each new article of a topic here" in helped
    assert "/addtopic" not in helped
    assert "/tip" not in helped

    # commands for another bot are not ours: no answer (the /topics after it is answered alone)
    seen = len(api.chat_messages(GROUP))
    api.inject_message("/latest@otherbot", user_id=MEMBER, chat_id=GROUP)
    assert (await say(room, "/topics", user_id=MEMBER, chat_id=GROUP)).startswith("🏷")
    await asyncio.sleep(0.3)
    assert len(api.chat_messages(GROUP)) == seen + 1

    # the group's admin subscribes it; daily is for private chats
    no_daily = await say(room, "/subscribe climate daily", user_id=GROUP_ADMIN, chat_id=GROUP)
    assert no_daily.startswith("Groups get each new article as it comes")
    done = await say(room, "/subscribe climate", user_id=GROUP_ADMIN, chat_id=GROUP)
    assert done.startswith("✅ This group now follows climate: I'll post each new article in it here.")
    assert (await say(room, "/subscribe climate", user_id=GROUP_ADMIN, chat_id=GROUP)) == (
        "This group already follows climate."
    )
    asked = [c for c in api.calls("getChatMember") if str(c["user_id"]) == str(GROUP_ADMIN)]
    assert len(asked) == 1  # the admin's status is remembered for a minute
    assert "• climate" in await say(room, "/mytopics", user_id=MEMBER, chat_id=GROUP)
    assert room.query("SELECT COUNT(*) FROM subscriptions") == [(0,)]  # nobody's private subscription

    # a climate story goes to the channel and to the group; another story to the channel only
    two = Story("two", "Storm barrier closes for the flood tide", category="Weather")
    await publish(room, SITES[0], [two, Story("three", "Library opens on Sundays", category="Local")], ping)
    await poll_until(lambda: len(group_posts(room, GROUP)) == 1 and len(room.posts()) == 3, timeout=15)
    assert group_posts(room, GROUP)[0].text.startswith("Storm barrier closes for the flood tide")

    api.inject_message("/status", user_id=ADA, first_name="Ada")
    assert "Groups: in 1 · 1 topic subscriptions" in (await api.wait_for_reply(ADA, timeout=10)).text

    # upgraded to a supergroup: the subscription follows it to the new id
    api.migrate_group(GROUP, SUPERGROUP, by=GROUP_ADMIN)
    await poll_until(lambda: room.query("SELECT chat_id FROM group_subscriptions") == [(SUPERGROUP,)])
    four = Story("four", "Flood warnings lifted along the coast", category="Weather")
    await publish(room, SITES[1], [four], ping)
    await poll_until(lambda: len(group_posts(room, SUPERGROUP)) == 1, timeout=15)
    assert len(group_posts(room, GROUP)) == 1  # nothing more to the old id
    assert "Flood warnings lifted" in group_posts(room, SUPERGROUP)[0].text

    # an anonymous admin (writing as the group) may change its topics
    gone = await say(room, "/unsubscribe climate", user_id=GROUP_ADMIN, anonymous=True)
    assert gone == "This group no longer follows climate."
    assert (await say(room, "/subscribe climate", user_id=GROUP_ADMIN, anonymous=True)).startswith("✅")

    # removed from the group: its subscriptions end and nothing more is sent there
    api.remove_bot_from_group(SUPERGROUP, by=GROUP_ADMIN)
    await poll_until(lambda: room.query("SELECT state FROM group_chats") == [("left",)])
    assert room.query("SELECT COUNT(*) FROM group_subscriptions") == [(0,)]
    await publish(room, SITES[2], [Story("five", "Storm season ends early", category="Weather")], ping)
    await poll_until(lambda: len(room.posts()) == 5, timeout=15)
    assert len(group_posts(room, SUPERGROUP)) == 1
    assert not [e for e in api.errors if "kicked" in e[2]]  # no send was even tried
    assert room.query("SELECT COUNT(*) FROM outbox WHERE chat_id = ?", (str(SUPERGROUP),)) == [(1,)]
