"""The review queue end to end: previews with buttons in the editors' group, decisions by admins only (the
first wins), Edit by reply, expiry, forged and stale buttons, and decisions that survive a restart."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.core.review import encode
from bot.sandbox.botapi import SentMessage
from tests.kits.newsroomkit import ADA, BEN, CHANNEL, CHANNEL_NAME, EDITORS, READER, Story, running_newsroom

STORIES = [Story("one", "Council approves the budget"), Story("two", "Harbour bridge reopens", age_minutes=9)]


def is_prompt(message: SentMessage) -> bool:
    return message.chat_id == EDITORS and message.text.startswith("✏️ Editing")


BUTTONS = ["✅ Post", "🔕 Post silently", "🔴 Breaking", "✏️ Edit", "🗑 Skip"]


async def test_preview_then_an_editor_posts_it_once(tmp_path: Path) -> None:
    async with running_newsroom(tmp_path, STORIES[:1]) as room:
        api = room.api
        preview = await room.preview(EDITORS)
        assert api.buttons(EDITORS, preview.message_id) == BUTTONS
        assert "Council approves the budget" in preview.text
        assert "Review" in preview.text
        assert "https://news.example/one" in preview.html  # the post exactly as it would go out
        await asyncio.sleep(1.0)
        assert room.posts() == []  # nothing goes out before an editor decides

        refused = api.press(EDITORS, preview.message_id, "✅ Post", user_id=READER, first_name="Rita")
        assert await api.wait_for_callback_answer(refused) == {
            "text": "Only editors can decide.",
            "show_alert": True,
        }
        assert room.query("SELECT state FROM reviews") == [("pending",)]

        query = api.press(EDITORS, preview.message_id, "✅ Post", user_id=ADA, first_name="Ada")
        assert (await api.wait_for_callback_answer(query))["text"] == "Posting it now."
        await api.wait_until(lambda: len(room.posts()) == 1, timeout=10)
        post = room.posts()[0]
        assert post.text.startswith("Council approves the budget")
        assert preview.html.split("\n\n", 1)[1] == post.html  # the preview showed the exact post
        link = f"https://t.me/{CHANNEL_NAME}/{post.message_id}"
        await api.wait_until(lambda: link in api.bot_message(api.chat(EDITORS), preview.message_id).html)
        shown = api.bot_message(api.chat(EDITORS), preview.message_id)
        assert shown.reply_markup is None
        assert "Posted by Ada at" in shown.text
        late = api.inject_callback_query(
            api.callbacks[query].data, chat_id=EDITORS, message_id=preview.message_id, user_id=BEN
        )
        assert (await api.wait_for_callback_answer(late))["text"].startswith(
            "Already decided: ✅ Posted by Ada"
        )
        audit = room.query("SELECT actor, action, detail FROM audit_log")
        assert audit == [
            (f"Ada ({ADA})", "review post", f"article {room.query('SELECT article_id FROM reviews')[0][0]}")
        ]
    assert len(api.channel_posts(CHANNEL)) == 1


async def test_two_editors_at_once_one_post(tmp_path: Path) -> None:
    async with running_newsroom(tmp_path, STORIES[:1]) as room:
        api = room.api
        preview = await room.preview(EDITORS)
        first = api.press(EDITORS, preview.message_id, "✅ Post", user_id=ADA, first_name="Ada")
        second = api.press(EDITORS, preview.message_id, "🗑 Skip", user_id=BEN, first_name="Ben")
        answers = [await api.wait_for_callback_answer(q) for q in (first, second)]
        texts = sorted(a["text"] for a in answers)
        assert texts[0].startswith("Already decided")
        assert texts[1] in ("Posting it now.", "Skipped.")
        await asyncio.sleep(1.5)
        states = room.query("SELECT state FROM outbox")
        assert states in ([("sent",)], [("skipped",)])
        assert len(room.posts()) == (1 if states == [("sent",)] else 0)


async def test_edit_by_reply_escapes_and_caps_then_posts(tmp_path: Path) -> None:
    async with running_newsroom(tmp_path, STORIES[:1]) as room:
        api = room.api
        preview = await room.preview(EDITORS)
        query = api.press(EDITORS, preview.message_id, "✏️ Edit", user_id=ADA, first_name="Ada")
        await api.wait_for_callback_answer(query)
        prompt = await api.wait_for(is_prompt, timeout=10)
        hostile = "Budget <b>passes</b> & the mayor's <script>x</script>\n" + "Long dek. " * 500
        api.inject_message(
            hostile, chat_id=EDITORS, user_id=ADA, first_name="Ada", reply_to=prompt.message_id
        )
        second = await room.preview(EDITORS, after=prompt.message_id)
        note = await api.wait_for(lambda m: m.chat_id == EDITORS and "shortened" in m.text, timeout=10)
        assert note.text == "That was longer than a post allows, so it was shortened."
        assert "✏️ edited" in second.text
        assert "Budget <b>passes</b> & the mayor's <script>x</script>" in second.text  # literal, not markup
        old = api.bot_message(api.chat(EDITORS), preview.message_id)
        assert old.reply_markup is None
        assert "Edited by Ada" in old.text
        query = api.press(EDITORS, second.message_id, "✅ Post", user_id=BEN, first_name="Ben")
        await api.wait_for_callback_answer(query)
        await api.wait_until(lambda: len(room.posts()) == 1, timeout=10)
        post = room.posts()[0]
        assert post.text.startswith("Budget <b>passes</b> & the mayor's <script>x</script>")
        assert "&lt;b&gt;" in post.html
        assert len(post.text) < 4096


async def test_non_admin_reply_to_a_prompt_changes_nothing_and_skip_drops(tmp_path: Path) -> None:
    async with running_newsroom(tmp_path, STORIES[:1]) as room:
        api = room.api
        preview = await room.preview(EDITORS)
        await api.wait_for_callback_answer(api.press(EDITORS, preview.message_id, "✏️ Edit", user_id=ADA))
        prompt = await api.wait_for(is_prompt, timeout=10)
        api.inject_message("Hijacked headline", chat_id=EDITORS, user_id=READER, reply_to=prompt.message_id)
        await asyncio.sleep(1.0)
        assert room.query("SELECT headline FROM reviews") == [(None,)]
        await api.wait_for_callback_answer(api.press(EDITORS, preview.message_id, "🗑 Skip", user_id=ADA))
        await api.wait_until(
            lambda: "Skipped by" in api.bot_message(api.chat(EDITORS), preview.message_id).text
        )
        assert room.query("SELECT state FROM outbox") == [("skipped",)]
        assert room.posts() == []


async def test_forged_and_stale_buttons_are_answered(tmp_path: Path) -> None:
    async with running_newsroom(tmp_path, STORIES[:1]) as room:
        api = room.api
        preview = await room.preview(EDITORS)
        data = api.callbacks[api.press(EDITORS, preview.message_id, "🗑 Skip", user_id=READER)].data
        forged = data.replace(":s:", ":p:")
        for bad in (forged, "rv1:p:zzzz:0000000000", "something-else", "x" * 64):
            query = api.inject_callback_query(
                bad, chat_id=EDITORS, message_id=preview.message_id, user_id=ADA
            )
            assert (await api.wait_for_callback_answer(query))["text"] == "This button is no longer valid."
        assert room.query("SELECT state FROM reviews") == [("pending",)]


async def test_undecided_articles_expire(tmp_path: Path) -> None:
    async with running_newsroom(tmp_path, STORIES[:1], REVIEW_EXPIRY_HOURS="0.0005") as room:
        api = room.api
        preview = await room.preview(EDITORS)
        await api.wait_until(
            lambda: "Dropped" in api.bot_message(api.chat(EDITORS), preview.message_id).text, timeout=10
        )
        assert api.bot_message(api.chat(EDITORS), preview.message_id).reply_markup is None
        assert room.query("SELECT state FROM reviews") == [("expired",)]
        assert room.query("SELECT state FROM outbox") == [("skipped",)]
        assert room.posts() == []


async def test_previews_go_to_each_admin_without_a_review_chat_and_survive_a_restart(tmp_path: Path) -> None:
    async with running_newsroom(tmp_path, STORIES[:1], REVIEW_CHAT_ID="") as room:
        for admin in (ADA, BEN):
            await room.preview(admin)
        first = (await room.preview(BEN)).message_id
    async with running_newsroom(tmp_path, STORIES[:1], REVIEW_CHAT_ID="") as room:
        api = room.api  # a new stand-in: the old messages are gone, so the old button is pressed as raw data
        assert room.query("SELECT COUNT(*) FROM review_messages WHERE kind = 'preview'") == [(2,)]
        secret_data = room.query("SELECT value FROM bot_state WHERE key = 'review_secret'")
        assert secret_data  # the signing key outlives the process
        api.private_chat(BEN)
        article_id = room.query("SELECT article_id FROM reviews")[0][0]
        query = api.inject_callback_query(
            encode("post", article_id, secret_data[0][0]), chat_id=BEN, message_id=first, user_id=BEN
        )
        assert (await api.wait_for_callback_answer(query))["text"] == "Posting it now."
        await api.wait_until(lambda: len(room.posts()) == 1, timeout=10)
