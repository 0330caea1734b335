"""Controlling the publisher: a 403 pauses the channel until an admin's /resume, the global pause,
corrections edited in place, link-preview and silent-post settings. Real PTB against the local Bot API.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.adapters.db import Database
from bot.adapters.repo_groups import GroupRepo
from bot.adapters.repo_topics import TopicRepo
from bot.core.models import Topic
from bot.core.timeutil import utcnow
from bot.edges.app import serve
from bot.sandbox.botapi import LocalBotAPI
from bot.settings import Settings
from tests.kits.outboxkit import (
    ADMINS,
    CHANNEL,
    article,
    assert_each_once,
    fast_config,
    posts_of,
    running_publisher,
    settings_for,
    states,
    store,
    story_order,
    wait_states,
    wait_value,
)


async def test_403_pauses_the_channel_tells_admins_once_and_resume_delivers(
    api: LocalBotAPI, settings: Settings
) -> None:
    api.kick_bot(CHANNEL)
    api.block_bot(ADMINS[1])  # one admin cannot be reached: ignored
    stop = asyncio.Event()
    bot_task = asyncio.create_task(serve(settings, stop))
    await api.wait_until(lambda: bool(api.calls("getUpdates")) or bot_task.done(), timeout=10)
    async with Database(settings.database_path) as db:
        await store(db, [article(1), article(2)])
        await api.wait_until(lambda: len(api.chat_messages(ADMINS[0])) == 1, timeout=5)
        await store(db, [article(3)])
        await asyncio.sleep(1.2)  # more than two polls: no more attempts, no more notices
        to_channel = [c for c in api.calls("sendMessage") if str(c["chat_id"]) == str(CHANNEL)]
        assert len(to_channel) == 1  # one refused post, not a retry loop
        notice = api.chat_messages(ADMINS[0])[0]
        assert "paused" in notice.text
        assert "bot was kicked" in notice.text
        assert "/resume" in notice.text
        assert await states(db) == {"queued": 3}

        status = await ask(api, "/status")
        assert f"Channel {CHANNEL} paused" in status
        api.restore_bot(CHANNEL)
        await ask(api, "/resume")
        await wait_states(db, {"sent": 3})
    stop.set()
    await asyncio.wait_for(bot_task, 15)
    assert story_order(api) == [1, 2, 3]
    assert_each_once(api, range(1, 4))
    notices = [m for m in api.chat_messages(ADMINS[0]) if "is paused" in m.text]
    assert len(notices) == 1


async def ask(api: LocalBotAPI, command: str) -> str:
    """An admin's command in their private chat; the bot's reply as readers see it."""
    api.inject_message(command, user_id=ADMINS[0])
    return (await api.wait_for_reply(ADMINS[0], timeout=5)).text


async def test_a_corrected_headline_edits_the_post(api: LocalBotAPI, settings: Settings) -> None:
    async with running_publisher(settings) as run:
        await store(run.db, [article(1)])
        await wait_states(run.db, {"sent": 1})
        await store(run.db, [article(1, headline="Corrected: number one")])
        await api.wait_until(lambda: api.count_edited == 1, timeout=5)
        await wait_value(run.db, "SELECT needs_edit FROM outbox", 0)
        # an edit Telegram already shows is "not modified", which counts as done
        await run.db.execute_write("UPDATE outbox SET needs_edit = 1, sent_text = 'stale'")
        await api.wait_until(lambda: any("not modified" in e[2] for e in api.errors), timeout=5)
        await wait_value(run.db, "SELECT needs_edit FROM outbox", 0)
        assert await states(run.db) == {"sent": 1}
    post = api.channel_posts(CHANNEL)[0]
    assert len(api.channel_posts(CHANNEL)) == 1
    assert api.count_edited == 1
    assert post.text.startswith("Corrected: number one\n\n")
    assert [e["type"] for e in post.entities] == ["bold", "text_link"]
    assert len(post.history) == 1
    assert "Headline number 1" in post.history[0]


async def test_global_pause_and_resume(api: LocalBotAPI, settings: Settings) -> None:
    async with running_publisher(settings) as run:
        await run.publisher.pause("maintenance")
        await store(run.db, [article(1)])
        await asyncio.sleep(0.4)
        assert api.channel_posts(CHANNEL) == []
        assert "Posting paused everywhere: maintenance" in await run.publisher.status_text()
        assert await run.publisher.resume() == ["*"]
        await wait_states(run.db, {"sent": 1})


async def test_link_preview_and_silent_posts_follow_settings(api: LocalBotAPI, tmp_path: Path) -> None:
    for n, (preview, expected) in enumerate(
        [
            ("off", {"is_disabled": True}),
            ("small", {"url": "https://news.example/story/1", "prefer_small_media": True}),
        ]
    ):
        settings = settings_for(api, tmp_path / f"{n}.db", LINK_PREVIEW=preview, DISABLE_NOTIFICATION="true")
        async with running_publisher(settings) as run:
            await store(run.db, [article(1)])
            await wait_states(run.db, {"sent": 1})
        post = api.channel_posts(CHANNEL)[-1]
        assert post.link_preview_options == expected
        assert post.disable_notification


async def test_post_buttons_follow_the_topic_and_survive_corrections(
    api: LocalBotAPI, tmp_path: Path
) -> None:
    settings = settings_for(api, tmp_path / "buttons.db", POST_BUTTONS="topic")
    async with running_publisher(settings, fast_config(post_buttons=settings.post_buttons)) as run:
        topics = TopicRepo(run.db)
        await topics.save(Topic("zeta", keywords=("number",)), utcnow())
        await topics.save(Topic("Économie", keywords=("number",)), utcnow())
        await topics.save(Topic("alpha", keywords=("number one",)), utcnow())
        tags = await topics.matchers()
        await store(
            run.db, [article(1, headline="Number one"), article(2, headline="Other news")], matchers=tags
        )
        await wait_states(run.db, {"sent": 2})
        await store(run.db, [article(1, headline="Corrected: number one")], matchers=tags)
        await api.wait_until(lambda: api.count_edited == 1, timeout=5)
    tagged, plain = (posts_of(api, 1)[0], posts_of(api, 2)[0])
    markup = tagged.reply_markup
    assert markup == {
        "inline_keyboard": [
            [{"text": "Follow alpha", "url": "https://t.me/newsbot_test_bot?start=topic-alpha"}]
        ]
    }
    assert tagged.text.startswith("Corrected: number one")  # edited, and the button is still there
    assert plain.reply_markup is None  # no topic: no button


async def test_post_buttons_are_off_by_default(api: LocalBotAPI, settings: Settings) -> None:
    async with running_publisher(settings, fast_config(post_buttons=settings.post_buttons)) as run:
        topics = TopicRepo(run.db)
        await topics.save(Topic("alpha", keywords=("number",)), utcnow())
        await store(run.db, [article(1)], matchers=await topics.matchers())
        await wait_states(run.db, {"sent": 1})
    assert settings.post_buttons == "off"
    assert api.channel_posts(CHANNEL)[0].reply_markup is None


async def test_a_group_that_removed_the_bot_is_ended_not_paused(api: LocalBotAPI, settings: Settings) -> None:
    group = -1007770001
    api.add_chat(group, title="Readers", type="supergroup", bot_status="kicked")  # no my_chat_member seen
    async with running_publisher(settings) as run:
        topics = TopicRepo(run.db)
        stored, _ = await topics.save(Topic("alpha", keywords=("number",)), utcnow())
        assert await GroupRepo(run.db).subscribe(group, "Readers", stored.id, 1, utcnow())
        await store(run.db, [article(1), article(2)], matchers=await topics.matchers())
        await wait_value(run.db, "SELECT state FROM group_chats", "left")
        await wait_states(run.db, {"sent": 2, "skipped": 2})
    assert len(api.channel_posts(CHANNEL)) == 2  # the channel goes on
    assert api.chat_messages(ADMINS[0]) == []  # a group leaving is no channel pause to tell admins about
    assert len([e for e in api.errors if e[1] == 403]) == 1  # one refusal, then nothing more is tried


async def test_a_group_upgraded_unseen_moves_with_its_topics_on_the_400(
    api: LocalBotAPI, settings: Settings
) -> None:
    group, supergroup = -4500, -1004500
    api.add_bot_to_group(group, by=ADMINS[0], type="group")
    api.migrate_group(group, supergroup, by=ADMINS[0])  # the bot never reads these updates here
    async with running_publisher(settings) as run:
        topics = TopicRepo(run.db)
        stored, _ = await topics.save(Topic("alpha", keywords=("number",)), utcnow())
        assert await GroupRepo(run.db).subscribe(group, "Readers", stored.id, 1, utcnow())
        await store(run.db, [article(1)], matchers=await topics.matchers())
        await api.wait_until(lambda: len(api.chat_messages(supergroup)) == 1, timeout=10)
        await wait_value(run.db, "SELECT chat_id FROM group_subscriptions", supergroup)
        rows = await run.db.fetchall("SELECT chat_id, state FROM group_chats")
        assert [tuple(r) for r in rows] == [(supergroup, "member")]
    assert [e[2] for e in api.errors] == ["Bad Request: group chat was upgraded to a supergroup chat"]
    assert api.chat_messages(supergroup)[0].text.startswith("Headline number 1")
