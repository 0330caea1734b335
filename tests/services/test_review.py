"""ReviewService on a real SQLite file with the clock injected and a recording sender: previews go out once
to each review chat, expiry at REVIEW_EXPIRY_HOURS edits them, presses are answered for every case, an
edit by reply makes a new preview, and a decided preview links the channel post once it is out."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.adapters.db import Database
from bot.adapters.repo_articles import ArticleRepo
from bot.adapters.repo_audit import AuditRepo
from bot.adapters.repo_feeds import FeedRepo
from bot.adapters.repo_outbox import OutboxRepo
from bot.adapters.repo_review import ReviewRepo
from bot.core.delivery import FloodWait
from bot.core.policy import PostPolicy
from bot.core.review import encode
from bot.services.audit import Actor, Audit
from bot.services.publisher import PublisherConfig
from bot.services.review import ReviewConfig, ReviewService
from bot.settings import DEFAULT_TEMPLATE
from tests.kits.outboxkit import CHANNEL, FEED_URL, article

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
EDITORS = "-1005550001111"
ADA, BEN, READER = 4242, 4343, 501
BERLIN = ZoneInfo("Europe/Berlin")
SIGNED = "(the button's own data)"


@dataclass
class Recorder:
    """A Send that remembers every call; message ids count up per chat."""

    messages: dict[tuple[str, int], tuple[str, Any]] = field(default_factory=dict)
    answers: list[tuple[str, str, bool]] = field(default_factory=list)
    edits: list[tuple[str, int, str]] = field(default_factory=list)
    last_id: int = 0

    async def send(self, chat_id: str, text: str, buttons: Any = None, *, reply_to: int | None = None) -> int:
        self.last_id += 1
        self.messages[chat_id, self.last_id] = (text, buttons)
        return self.last_id

    async def prompt(self, chat_id: str, text: str, *, reply_to: int | None = None) -> int:
        return await self.send(chat_id, text, reply_to=reply_to)

    async def edit(self, chat_id: str, message_id: int, text: str, buttons: Any = None) -> None:
        self.messages[chat_id, message_id] = (text, buttons)
        self.edits.append((chat_id, message_id, text))

    async def answer(self, query_id: str, text: str, *, alert: bool = False) -> None:
        self.answers.append((query_id, text, alert))

    def with_buttons(self) -> list[tuple[str, int]]:
        return [key for key, (_, buttons) in self.messages.items() if buttons]


async def rows(db: Database, sql: str) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in await db.fetchall(sql)]


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Desk:
    db: Database
    service: ReviewService
    sender: Recorder
    clock: Clock
    article_id: int
    woken: list[int]

    async def press(self, action: str, user: int, name: str = "Ada", data: str | None = SIGNED) -> str:
        """Press `action` as `user`; `data` replaces the signed button data when given."""
        if data == SIGNED:
            data = encode(action, self.article_id, await self.service.secret())  # type: ignore[arg-type]
        await self.service.press(None, "q", data, Actor.user(user, name), EDITORS, 1)
        return self.sender.answers[-1][1]


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[Desk]:
    async with Database(tmp_path / "bot.db") as db:
        feed, _ = await FeedRepo(db).ensure(FEED_URL, T0)
        await ArticleRepo(db).store(  # as ingest stores it, with REVIEW on
            feed.id,
            [article(1, headline="Budget passes", published=T0)],
            now=T0,
            first_sync=False,
            policy=PostPolicy(review=True),
            channel_id=str(CHANNEL),
        )
        sender, clock, woken = Recorder(), Clock(), []
        config = ReviewConfig(
            targets=(EDITORS,),
            admin_ids=frozenset({ADA, BEN}),
            expiry=timedelta(hours=6),
            zone=BERLIN,
            render=PublisherConfig(template=DEFAULT_TEMPLATE).render,
            link_wait=0.1,
        )
        service = ReviewService(
            ReviewRepo(db),
            lambda _bot: sender,
            config,
            Audit(AuditRepo(db), clock=clock),
            on_decided=lambda: woken.append(1),
            channel_username=lambda chat: "dailynews" if chat == str(CHANNEL) else None,
            clock=clock,
        )
        article_id = (await rows(db, "SELECT id FROM articles"))[0][0]
        yield Desk(db, service, sender, clock, article_id, woken)


async def test_one_preview_with_five_buttons_then_expiry_by_the_clock(desk: Desk) -> None:
    await desk.service.step(desk.sender)
    await desk.service.step(desk.sender)
    assert desk.sender.with_buttons() == [(EDITORS, 1)]  # once, however often the loop runs
    text, buttons = desk.sender.messages[EDITORS, 1]
    assert text.startswith(f"📝 <b>Review</b> · #{desk.article_id} · News Example\n\n<b>Budget passes</b>")
    assert [label for row in buttons for label, _ in row] == [
        "✅ Post",
        "🔕 Post silently",
        "🔴 Breaking",
        "✏️ Edit",
        "🗑 Skip",
    ]
    desk.clock.now = T0 + timedelta(hours=5, minutes=59)
    await desk.service.step(desk.sender)
    assert desk.sender.edits == []
    desk.clock.now = T0 + timedelta(hours=6, minutes=1)
    await desk.service.step(desk.sender)
    assert desk.sender.messages[EDITORS, 1][1] is None  # buttons gone
    assert desk.sender.messages[EDITORS, 1][0].endswith("\n\n⌛ Dropped: not decided within 6 h.")
    await desk.service.step(desk.sender)
    assert len(desk.sender.edits) == 1  # said once
    assert await desk.press("post", ADA) == "Already decided: ⌛ Dropped: not decided within 6 h."
    assert await rows(desk.db, "SELECT state FROM outbox") == [("skipped",)]


async def test_presses_refused_forged_decided_and_audited(desk: Desk) -> None:
    await desk.service.step(desk.sender)
    assert await desk.press("post", READER, "Rita") == "Only editors can decide."
    assert desk.sender.answers[-1][2]  # as an alert
    assert await desk.press("post", ADA, data="rv1:p:1:0000000000") == "This button is no longer valid."
    assert await desk.press("post", ADA, data=None) == "This button is no longer valid."
    other = encode("post", desk.article_id + 1, await desk.service.secret())
    assert await desk.press("post", ADA, data=other) == "This article is no longer in review."
    assert desk.woken == []
    desk.clock.now = T0 + timedelta(minutes=42)
    assert await desk.press("post", ADA) == "Posting it now."
    assert desk.woken == [1]  # the publisher is told at once
    # not out yet (no publisher here): the preview says so, and the loop links it once it is out
    assert desk.sender.messages[EDITORS, 1][1] is None  # buttons gone
    assert desk.sender.messages[EDITORS, 1][0].endswith("✅ Posted by Ada at 10:42 · sending…")
    assert await desk.press("skip", BEN, "Ben") == "Already decided: ✅ Posted by Ada at 10:42"
    outbox = OutboxRepo(desk.db)
    head = (await outbox.due_heads(desk.clock.now))[0]
    assert await outbox.claim(head.id)
    await outbox.mark_sent(head.id, message_id=77, text="t", headline=head.headline, dek=head.dek, now=T0)
    await desk.service.step(desk.sender)
    link = '<a href="https://t.me/dailynews/77">✅ Posted by Ada at 10:42</a>'
    assert desk.sender.messages[EDITORS, 1][0].endswith(link)
    edits = len(desk.sender.edits)
    await desk.service.step(desk.sender)
    assert len(desk.sender.edits) == edits  # linked once
    assert await rows(desk.db, "SELECT actor, action, detail FROM audit_log") == [
        (f"Ada ({ADA})", "review post", f"article {desk.article_id}")
    ]


async def test_skip_replaces_the_buttons_at_once(desk: Desk) -> None:
    await desk.service.step(desk.sender)
    assert await desk.press("skip", BEN, "Ben") == "Skipped."
    assert desk.sender.messages[EDITORS, 1][0].endswith("🗑 Skipped by Ben at 10:00")
    assert desk.sender.messages[EDITORS, 1][1] is None
    assert await rows(desk.db, "SELECT state, last_error FROM outbox") == [
        ("skipped", "skipped by an editor")
    ]


async def test_edit_by_reply_only_from_an_editor_and_a_new_preview_follows(desk: Desk) -> None:
    await desk.service.step(desk.sender)
    assert await desk.press("edit", ADA) == "Reply to my message with the new headline and dek."
    prompt = desk.sender.last_id
    assert desk.sender.messages[EDITORS, prompt][0].startswith("✏️ Editing")
    service = desk.service
    assert not await service.reply(None, EDITORS, 1, "Not a prompt", Actor.user(ADA, "Ada"), 50)
    assert await service.reply(None, EDITORS, prompt, "Hijack", Actor.user(READER, "Rita"), 51)
    assert await rows(desk.db, "SELECT headline FROM reviews") == [(None,)]
    hostile = "<b>Budget</b> & <i>more</i>\n" + "Dek words. " * 500
    assert await service.reply(None, EDITORS, prompt, hostile, Actor.user(ADA, "Ada"), 52)
    assert desk.sender.messages[EDITORS, 1][1] is None  # buttons gone
    assert desk.sender.messages[EDITORS, 1][0].endswith("✏️ Edited by Ada: see the new preview below.")
    assert "shortened" in desk.sender.messages[EDITORS, desk.sender.last_id][0]
    await service.step(desk.sender)
    new = desk.sender.with_buttons()
    assert len(new) == 1
    assert new[0][1] > prompt
    text = desk.sender.messages[new[0]][0]
    assert "✏️ edited" in text
    assert f"<b>{html.escape('<b>Budget</b> & <i>more</i>')}</b>" in text  # literal, escaped
    assert len(html.unescape(text)) < 4096
    desk.clock.now = T0 + timedelta(hours=1)
    assert await desk.press("post", BEN, "Ben") == "Posting it now."
    item = await ReviewRepo(desk.db).item(desk.article_id)
    assert item is not None
    assert item.headline == "<b>Budget</b> & <i>more</i>"
    assert len(item.dek) <= 1000
    assert await service.reply(None, EDITORS, prompt, "Later", Actor.user(ADA, "Ada"), 53)
    assert desk.sender.messages[EDITORS, desk.sender.last_id][0].startswith("Too late to edit: ✅ Posted")
    actions = [r[0] for r in await rows(desk.db, "SELECT action FROM audit_log ORDER BY id")]
    assert actions == ["review edit", "review post"]


async def test_previews_go_to_each_admin_when_there_is_no_review_chat(desk: Desk) -> None:
    desk.service.config = ReviewConfig(
        targets=(str(ADA), str(BEN)),
        admin_ids=frozenset({ADA, BEN}),
        expiry=timedelta(hours=6),
        zone=UTC,
        render=PublisherConfig(template=DEFAULT_TEMPLATE).render,
    )
    await desk.service.step(desk.sender)
    assert sorted(chat for chat, _ in desk.sender.with_buttons()) == [str(ADA), str(BEN)]
    assert str(CHANNEL) not in {chat for chat, _ in desk.sender.messages}


async def test_a_429_in_a_private_chat_is_waited_out_not_hammered(desk: Desk) -> None:
    calls: list[str] = []

    class Flooded(Recorder):
        async def send(
            self, chat_id: str, text: str, buttons: Any = None, *, reply_to: int | None = None
        ) -> int:
            calls.append(chat_id)
            if chat_id == str(ADA):
                raise FloodWait(chat_id, 120)
            return await super().send(chat_id, text, buttons, reply_to=reply_to)

    desk.service.config = ReviewConfig(
        targets=(str(ADA), str(BEN)),
        admin_ids=frozenset({ADA, BEN}),
        expiry=timedelta(hours=6),
        zone=UTC,
        render=PublisherConfig(template=DEFAULT_TEMPLATE).render,
    )
    sender = Flooded()
    await desk.service.step(sender)
    assert calls == [str(ADA), str(BEN)]
    await put_another(desk.db)
    await desk.service.step(sender)
    assert calls == [str(ADA), str(BEN), str(BEN)]  # Ada's chat waits for its retry_after
    assert [chat for chat, _ in sender.with_buttons()] == [str(BEN), str(BEN)]


async def put_another(db: Database) -> None:
    feed, _ = await FeedRepo(db).ensure(FEED_URL, T0)
    await ArticleRepo(db).store(
        feed.id,
        [article(2, headline="Harbour reopens", published=T0)],
        now=T0,
        first_sync=False,
        policy=PostPolicy(review=True),
        channel_id=str(CHANNEL),
    )


async def test_a_decided_post_that_fails_says_so_once(desk: Desk) -> None:
    await desk.service.step(desk.sender)
    desk.clock.now = T0 + timedelta(minutes=42)
    assert await desk.press("post", ADA) == "Posting it now."
    outbox = OutboxRepo(desk.db)
    head = (await outbox.due_heads(desk.clock.now))[0]
    assert await outbox.claim(head.id)
    await outbox.finish(head.id, "failed", reason="chat not found", now=desk.clock.now)
    await desk.service.step(desk.sender)
    want = "✅ Posted by Ada at 10:42 · not posted (see /status)"
    assert desk.sender.messages[EDITORS, 1][0].endswith(want)
    edits = len(desk.sender.edits)
    for _ in range(3):
        await desk.service.step(desk.sender)
    assert len(desk.sender.edits) == edits  # not edited again at every step


async def test_a_topic_channels_post_is_linked_in_that_channel(desk: Desk) -> None:
    await desk.db.execute_write("UPDATE outbox SET chat_id = '-1009990001111'")
    await desk.service.step(desk.sender)
    assert await desk.press("breaking", ADA) == "Posting it as breaking news."
    outbox = OutboxRepo(desk.db)
    head = (await outbox.due_heads(desk.clock.now))[0]
    assert await outbox.claim(head.id)
    await outbox.mark_sent(head.id, message_id=5, text="t", headline=head.headline, dek=head.dek, now=T0)
    await desk.service.step(desk.sender)
    link = '<a href="https://t.me/c/9990001111/5">🔴 Posted as breaking news by Ada at 10:00</a>'
    assert desk.sender.messages[EDITORS, 1][0].endswith(link)
