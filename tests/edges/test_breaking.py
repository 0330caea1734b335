"""Breaking news end to end: a feed's breaking category jumps the queue, rings, is marked and pinned; the
next breaking story takes the pin; pins lapse; /breaking never posts twice; quiet hours hold or hush."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.kits.newsroomkit import ADA, CHANNEL, EDITORS, READER, Story, running_newsroom

STORIES = [
    Story("a", "Parliament session opens", age_minutes=30),
    Story("b", "Markets close higher", age_minutes=20),
    Story("c", "Earthquake hits the coast", category="Breaking News", age_minutes=25),
]
QUIET = {"REVIEW": "off", "DISABLE_NOTIFICATION": "true"}


def window_around_now() -> str:
    now = datetime.now(UTC)
    return f"{now - timedelta(hours=1):%H:%M}-{now + timedelta(hours=1):%H:%M}"


async def test_breaking_category_goes_first_rings_marked_and_pinned(tmp_path: Path) -> None:
    async with running_newsroom(tmp_path, STORIES, **QUIET) as room:
        api = room.api
        await api.wait_until(lambda: len(room.posts()) == 3, timeout=15)
        first, *rest = room.posts()
        assert first.text.startswith("🔴 BREAKING: Earthquake hits the coast")
        assert first.disable_notification is False  # breaking rings even with DISABLE_NOTIFICATION=true
        assert all(p.disable_notification for p in rest)
        assert [p.text.split("\n")[0] for p in rest] == ["Parliament session opens", "Markets close higher"]
        await api.wait_until(lambda: api.pinned(CHANNEL) == [first.message_id])

        article_b = room.query("SELECT id FROM articles WHERE url LIKE '%/b'")[0][0]
        reply = await room_ask(room, f"/breaking {article_b}")
        assert "already posted; pinned it" in reply
        assert api.pinned(CHANNEL) == [rest[1].message_id]  # the next breaking story takes the pin
        assert len(room.posts()) == 3  # never posted twice

        refused = await room_ask(room, f"/breaking {article_b}", user_id=READER)
        assert "only for admins" in refused.lower() or "admin" in refused.lower()
        assert (await room_ask(room, "/breaking 999999")).startswith("No such article")
        audit = room.query("SELECT actor, action FROM audit_log")
        assert audit == [(f"Ada ({ADA})", "breaking")]


async def room_ask(room: object, text: str, *, user_id: int = ADA) -> str:
    api = room.api  # type: ignore[attr-defined]
    api.inject_message(text, user_id=user_id, first_name="Ada" if user_id == ADA else "Rita")
    return (await api.wait_for_reply(user_id, timeout=10)).text


async def test_pins_lapse_after_pin_hours(tmp_path: Path) -> None:
    async with running_newsroom(tmp_path, STORIES[2:], PIN_HOURS="0.0005", **QUIET) as room:
        api = room.api
        await api.wait_until(lambda: len(api.pinned(CHANNEL)) == 1, timeout=15)
        await api.wait_until(lambda: api.pinned(CHANNEL) == [], timeout=10)
        await api.wait_until(lambda: room.query("SELECT unpinned_at IS NOT NULL FROM pins") == [(1,)])


async def test_quiet_hours_hold_releases_only_breaking(tmp_path: Path) -> None:
    env = {**QUIET, "QUIET_HOURS": window_around_now(), "QUIET_MODE": "hold"}
    async with running_newsroom(tmp_path, STORIES, **env) as room:
        api = room.api
        await api.wait_until(lambda: len(room.posts()) == 1, timeout=15)
        await asyncio.sleep(1.5)
        assert [p.text.split(":")[0] for p in room.posts()] == ["🔴 BREAKING"]
        assert room.query("SELECT COUNT(*) FROM outbox WHERE state = 'queued'") == [(2,)]


async def test_quiet_hours_silent_mode_hushes_all_but_breaking(tmp_path: Path) -> None:
    env = {"REVIEW": "off", "QUIET_HOURS": window_around_now()}
    async with running_newsroom(tmp_path, STORIES, **env) as room:
        await room.api.wait_until(lambda: len(room.posts()) == 3, timeout=15)
        assert [p.disable_notification for p in room.posts()] == [False, True, True]


async def test_breaking_on_an_article_in_review_is_the_editors_decision(tmp_path: Path) -> None:
    stories = [Story("d", "Dam levels fall"), Story("e", "Storm warning for the coast", age_minutes=9)]
    async with running_newsroom(tmp_path, stories, DISABLE_NOTIFICATION="true") as room:
        api = room.api
        await room.preview(EDITORS)
        await api.wait_until(
            lambda: room.query("SELECT COUNT(*) FROM reviews WHERE state = 'pending'") == [(2,)]
        )
        assert room.posts() == []  # review on: nothing goes out on its own
        reply = await room_ask(room, "/breaking https://news.example/e")
        assert reply.startswith("🔴 Article")
        await api.wait_until(lambda: len(room.posts()) == 1, timeout=10)
        post = room.posts()[0]
        assert post.text.startswith("🔴 BREAKING: Storm warning for the coast")
        assert post.disable_notification is False
        await api.wait_until(lambda: api.pinned(CHANNEL) == [post.message_id])
        decided = room.query(
            "SELECT state, decided_by FROM reviews r JOIN articles a ON a.id = r.article_id"
            " WHERE a.url LIKE '%/e'"
        )
        assert decided == [("breaking", ADA)]
        assert room.query("SELECT COUNT(*) FROM reviews WHERE state = 'pending'") == [(1,)]  # "d" still waits
        previews = {
            r[0]
            for r in room.query(
                "SELECT m.message_id FROM review_messages m JOIN articles a ON a.id = m.article_id"
                " WHERE a.url LIKE '%/e' AND m.kind = 'preview'"
            )
        }
        assert previews

        def preview_tells_the_decision() -> bool:
            shown = [m.text for m in api.chat_messages(EDITORS) if m.message_id in previews]
            return any("breaking" in text.lower() and "Ada" in text for text in shown)

        await api.wait_until(preview_tells_the_decision, timeout=10)  # the editors see who decided
        again = await room_ask(room, "/breaking https://news.example/e")
        assert "already posted; pinned it" in again
        assert len(room.posts()) == 1
        assert (await room_ask(room, "/breaking https://news.example/nope")).startswith("No such article")
        assert (await room_ask(room, "/breaking")).startswith("Usage: /breaking")


async def test_the_feeds_next_breaking_story_takes_the_pin(tmp_path: Path) -> None:
    stories = [
        Story("f", "Floods close the motorway", category="Breaking News", age_minutes=30),
        Story("g", "Ferry runs aground", category=" breaking  news ", age_minutes=10),
        Story("h", "Library extends its hours", age_minutes=20),
    ]
    async with running_newsroom(tmp_path, stories, **QUIET) as room:
        api = room.api
        await api.wait_until(lambda: len(room.posts()) == 3, timeout=15)
        first, second, third = room.posts()
        assert [p.text.split("\n")[0] for p in (first, second)] == [
            "🔴 BREAKING: Floods close the motorway",
            "🔴 BREAKING: Ferry runs aground",  # the category matched in any case and spacing
        ]
        assert third.text.startswith("Library extends its hours")
        await api.wait_until(lambda: api.pinned(CHANNEL) == [second.message_id])
        assert api.calls("unpinAllChatMessages") == []
