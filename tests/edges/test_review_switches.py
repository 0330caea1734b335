"""The review switches end to end: `/review [feed id] on|off|default` (admins only, one-line usage, audited,
shown by `/review` and `/feeds`) through the real Application, and `newsbot feeds review ID on|off|default`
in the shell (audited as the shell, shown by `newsbot feeds list`)."""

from __future__ import annotations

from pathlib import Path

from bot.sandbox.botapi import SentMessage
from tests.edges.test_cli_feeds import newsbot
from tests.kits.feedserver import FeedServer
from tests.kits.ingestkit import DATA
from tests.kits.newsroomkit import ADA, EDITORS, READER, Newsroom, Story, running_newsroom


async def ask(room: Newsroom, text: str, user_id: int = ADA) -> SentMessage:
    room.api.inject_message(text, user_id=user_id, first_name="Ada" if user_id == ADA else "Rita")
    return await room.api.wait_for_reply(user_id, timeout=10)


async def test_review_command_switches_bot_wide_and_per_feed(tmp_path: Path) -> None:
    async with running_newsroom(tmp_path, [Story("one", "Council approves the budget")]) as room:
        await room.preview(EDITORS)  # REVIEW=on: the first story waits
        shown = await ask(room, "/review")
        assert shown.text == f"Review is on (from the REVIEW setting); previews go to {EDITORS}."
        refused = await ask(room, "/review off", user_id=READER)
        assert refused.text == "Sorry, /review is only for the bot's admins. /help lists what you can do."
        assert room.query("SELECT value FROM bot_state WHERE key = 'review'") == []
        for bad in ("/review maybe", "/review 1 on off", "/review x on", "/review 1 perhaps"):
            answer = await ask(room, bad)
            assert answer.text == "Usage: /review on|off, or /review <feed id> on|off|default", bad
        assert (await ask(room, "/review 99 on")).text == "There is no feed 99; see /feeds."
        assert (await ask(room, "/review OFF")).text == "Review is now off for new articles."
        assert (await ask(room, "/review")).text.startswith("Review is off (from the /review)")
        assert (await ask(room, "/review 1 on")).text == "Review for feed 1 is now on."
        assert room.query("SELECT review FROM feeds WHERE id = 1") == [(1,)]
        assert "review on (this feed)" in (await ask(room, "/feeds")).text
        assert (await ask(room, "/review #1 default")).text == "Review for feed 1 is now default."
        assert room.query("SELECT review FROM feeds WHERE id = 1") == [(None,)]
        assert "(this feed)" not in (await ask(room, "/feeds")).text
        assert room.query("SELECT actor, action, detail FROM audit_log ORDER BY id") == [
            (f"Ada ({ADA})", "review switched", "off"),
            (f"Ada ({ADA})", "review switched", "feed 1: on"),
            (f"Ada ({ADA})", "review switched", "feed 1: default"),
        ]


async def test_shell_switches_a_feeds_review(tmp_path: Path) -> None:
    async with FeedServer() as server:
        server.route("/wp.xml", (DATA / "wordpress.xml").read_bytes())
        code, _, err = await newsbot(tmp_path, "ingest", "--once", FEEDS=server.url("/wp.xml"))
        assert code == 0, err
        code, out, err = await newsbot(tmp_path, "feeds", "review", "1", "off")
        assert (code, out, err) == (0, "review for feed 1: off\n", "")
        code, out, _ = await newsbot(tmp_path, "feeds", "list")
        assert out.rstrip().endswith("; review off]")
        code, out, err = await newsbot(tmp_path, "feeds", "review", "7", "on")
        assert code != 0
        assert out == ""
        assert "no feed with id 7" in err
        assert len(err.strip().splitlines()) == 1
        code, _, err = await newsbot(tmp_path, "feeds", "review", "1", "sometimes")
        assert code != 0
        assert "invalid choice" in err
        code, out, _ = await newsbot(tmp_path, "feeds", "review", "1", "default")
        assert code == 0
        code, out, _ = await newsbot(tmp_path, "feeds", "list")
        assert "review" not in out
        code, out, _ = await newsbot(tmp_path, "audit")
        assert "review switched" in out
        assert "feed 1: off" in out
        assert "feed 1: default" in out
