"""Reader tips end to end: to the editors' group escaped and signed, answered as the newsroom, limited per
hour, photos; /block and /unblock; /audit and `newsbot audit` list who changed what."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.kits.newsroomkit import ADA, BEN, EDITORS, READER, Newsroom, running_newsroom

OFF = {"REVIEW": "off", "TIPS_PER_HOUR": "3", "COMMAND_BURST": "100"}


async def ask(room: Newsroom, text: str, *, user_id: int = READER) -> str:
    room.api.inject_message(text, user_id=user_id, first_name="Rita" if user_id == READER else "Ada")
    return (await room.api.wait_for_reply(user_id, timeout=10)).text


async def test_a_tip_reaches_the_editors_and_their_answer_the_reader(tmp_path: Path) -> None:
    async with running_newsroom(tmp_path, [], **OFF) as room:
        api = room.api
        hostile = 'The mayor\'s car <b>was</b> at the "depot" & <a href="x">here</a>'
        assert await ask(room, f"/tip {hostile}") == "Thanks — your tip went to the newsroom."
        tip = await api.wait_for(lambda m: m.chat_id == EDITORS and "Tip" in m.text, timeout=10)
        assert f"from Rita (@reader, id {READER})" in tip.text
        assert hostile in tip.text  # literal, shown as typed
        assert "&lt;b&gt;" in tip.html
        thanked = api.chat_messages(READER)[-1].message_id
        api.inject_message(
            "Thanks! Can you send a photo?", chat_id=EDITORS, user_id=ADA, reply_to=tip.message_id
        )
        answer = await api.wait_for_reply(READER, after_message_id=thanked, timeout=10)
        assert answer.text == "📰 The newsroom replies:\n\nThanks! Can you send a photo?"
        assert "Ada" not in answer.text
        confirmation = await api.wait_for(lambda m: m.chat_id == EDITORS and m.text == "Sent to the reader.")
        assert confirmation.reply_to is not None
        api.inject_message(
            "me too", chat_id=EDITORS, user_id=READER, reply_to=tip.message_id
        )  # not an editor
        api.inject_photo("/tip the depot, tonight", user_id=READER, first_name="Rita")
        photo = await api.wait_for(lambda m: m.chat_id == EDITORS and m.kind == "photo", timeout=10)
        assert "the depot, tonight" in photo.text
        assert [m.text for m in api.chat_messages(READER)].count(answer.text) == 1
        assert room.query("SELECT COUNT(*) FROM tips") == [(2,)]


async def test_tip_flood_is_told_once_then_silent(tmp_path: Path) -> None:
    async with running_newsroom(tmp_path, [], **OFF) as room:
        for n in range(3):
            assert (await ask(room, f"/tip number {n}")).startswith("Thanks")
        assert "3 tips this hour" in await ask(room, "/tip four")
        room.api.inject_message("/tip five", user_id=READER)
        assert "tips" not in await ask(room, "/latest")  # the sixth tip was ignored; commands still work
        told = [m.text for m in room.api.chat_messages(READER) if "tips this hour" in m.text]
        assert len(told) == 1
        assert room.query("SELECT COUNT(*) FROM tips") == [(3,)]
        assert (await ask(room, "/tip")).startswith("Usage: /tip")


async def test_block_unblock_and_the_audit_log(tmp_path: Path) -> None:
    async with running_newsroom(tmp_path, [], **OFF) as room:
        api = room.api
        assert "admin" in (await ask(room, f"/block {ADA}", user_id=READER)).lower()
        assert (await ask(room, f"/block {READER}", user_id=ADA)).startswith(f"Reader {READER} is blocked")
        assert (await ask(room, f"/block {ADA}", user_id=ADA)) == "Admins can't be blocked."
        assert (await ask(room, "/block nobody", user_id=ADA)).startswith("Usage: /block")
        before = len(api.chat_messages(READER))
        api.inject_message("/tip ignored", user_id=READER)
        api.inject_message("/latest", user_id=READER)
        assert (await ask(room, f"/unblock {READER}", user_id=ADA)) == f"Reader {READER} is unblocked."
        assert len(api.chat_messages(READER)) == before  # nothing answered while blocked
        assert room.query("SELECT COUNT(*) FROM tips") == [(0,)]
        assert (await ask(room, "/tip back again")).startswith("Thanks")
        assert (await ask(room, "/pause for the test", user_id=ADA)).startswith(("⏸", "Posting"))
        audit = await ask(room, "/audit 5", user_id=ADA)
        lines = audit.splitlines()
        assert lines[0] == "Latest changes (newest first)"
        assert " · Ada (4242) · paused · for the test" in lines[1]
        assert " · Ada (4242) · reader unblocked · user 501" in lines[2]
        assert " · Ada (4242) · reader blocked · user 501" in lines[3]
        assert (await ask(room, "/audit lots", user_id=ADA)).startswith("Usage: /audit")
    env = {"DATABASE_PATH": str(tmp_path / "bot.db"), "PATH": "/usr/bin:/bin"}
    shell = subprocess.run(
        [sys.executable, "-m", "bot", "audit", "-n", "2"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    assert shell.stdout.splitlines()[0].endswith("· Ada (4242) · paused · for the test")
    assert len(shell.stdout.splitlines()) == 2


async def test_photo_answers_blocked_readers_and_tips_in_groups(tmp_path: Path) -> None:
    async with running_newsroom(tmp_path, [], **OFF) as room:
        api = room.api
        assert await ask(room, "/tip the depot <again>") == "Thanks — your tip went to the newsroom."
        tip = await api.wait_for(lambda m: m.chat_id == EDITORS and "Tip" in m.text, timeout=10)
        thanked = api.chat_messages(READER)[-1].message_id
        api.inject_photo(
            "Is this it? <b>", chat_id=EDITORS, user_id=BEN, first_name="Ben", reply_to=tip.message_id
        )
        answer = await api.wait_for_reply(READER, after_message_id=thanked, timeout=10)
        assert answer.kind == "photo"
        assert answer.photo
        assert answer.text == "📰 The newsroom replies:\n\nIs this it? <b>"
        assert "Ben" not in answer.text
        await api.wait_for(lambda m: m.chat_id == EDITORS and m.text == "Sent to the reader.", timeout=10)
        api.block_bot(READER)
        api.inject_message("Hello?", chat_id=EDITORS, user_id=ADA, first_name="Ada", reply_to=tip.message_id)
        told = await api.wait_for(lambda m: m.chat_id == EDITORS and "blocked" in m.text, timeout=10)
        assert told.text == "The reader has blocked the bot."
        api.inject_message("/tip from the group", chat_id=EDITORS, user_id=BEN, first_name="Ben")
        group = await api.wait_for(lambda m: m.chat_id == EDITORS and "private chat" in m.text, timeout=10)
        assert group.text == "Send tips in a private chat with me, please."
        assert room.query("SELECT COUNT(*) FROM tips") == [(1,)]


async def test_without_an_editors_group_each_admin_gets_the_tip(tmp_path: Path) -> None:
    async with running_newsroom(tmp_path, [], **{**OFF, "REVIEW_CHAT_ID": ""}) as room:
        api = room.api
        assert (await ask(room, "/tip " + "😀" * 3000)).startswith("Thanks")
        copies = {
            admin: await api.wait_for(lambda m, a=admin: m.chat_id == a and "Tip" in m.text, timeout=10)  # type: ignore[misc]
            for admin in (ADA, BEN)
        }
        assert all(m.text.endswith("(as the newsroom).") for m in copies.values())  # cut to fit, hint kept
        assert api.chat_messages(EDITORS) == []
        thanked = api.chat_messages(READER)[-1].message_id
        api.inject_message("Got it", user_id=BEN, first_name="Ben", reply_to=copies[BEN].message_id)
        answer = await api.wait_for_reply(READER, after_message_id=thanked, timeout=10)
        assert answer.text == "📰 The newsroom replies:\n\nGot it"
        assert room.query("SELECT COUNT(*) FROM tip_messages") == [(2,)]
