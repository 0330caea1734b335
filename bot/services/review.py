"""The review queue: previews of new articles go to the editors with buttons; an admin's press decides
(the first one wins), an Edit reply changes the post, and undecided articles expire.

Storage is the ReviewStore (bot/adapters/repo_review.py), Telegram the Send protocol
(bot/adapters/telegram_newsroom.py); wording and button data are bot/core/review.py's. The publisher
posts what is decided; this service wakes it and, once the post is out, links it from the previews.
"""

from __future__ import annotations

import asyncio
import functools
import html
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any, Protocol, TypeVar

import structlog

from bot.core.delivery import DeliveryError, FloodWait, OutboxItem
from bot.core.pacing import RateWindow
from bot.core.review import (
    Action,
    Decided,
    decode,
    keyboard,
    outcome_line,
    parse_edit,
    post_link,
    preview_html,
)
from bot.core.timeutil import utcnow
from bot.services.audit import Actor, Audit
from bot.services.looping import every

__all__ = ["ReviewConfig", "ReviewService"]

log = structlog.get_logger(__name__)
T = TypeVar("T")
GROUP_LIMIT = 20  # messages a minute to one group (TELEGRAM.md); edits count too
MAX_PACE_WAIT = 30.0  # the loop waits this long at most for a group's budget, then tries at its next step
Buttons = list[list[tuple[str, str]]]
_ANSWERS = {
    "post": "Posting it now.",
    "silent": "Posting it silently.",
    "breaking": "Posting it as breaking news.",
    "skip": "Skipped.",
}


class ReviewStore(Protocol):
    async def secret(self) -> str: ...
    async def get(self, article_id: int) -> Any: ...
    async def item(self, article_id: int) -> OutboxItem | None: ...
    async def unannounced(self, limit: int = ...) -> list[int]: ...
    async def add_messages(
        self, article_id: int, messages: list[tuple[str, int]], kind: str, now: datetime
    ) -> None: ...
    async def messages(self, article_id: int, kind: str = ...) -> list[tuple[str, int]]: ...
    async def prompt_for(self, chat_id: str, message_id: int) -> int | None: ...
    async def decide(self, article_id: int, state: str, *, by_id: int, by: str, now: datetime) -> bool: ...
    async def edit(self, article_id: int, headline: str, dek: str) -> bool: ...
    async def expire(self, created_before: datetime, now: datetime) -> list[int]: ...
    async def unshown_outcomes(self, limit: int = ...) -> list[tuple[int, str | None, int | None]]: ...
    async def outcome_shown(self, article_id: int) -> None: ...
    async def posted(self, article_id: int) -> tuple[str, int] | None: ...


class Send(Protocol):
    async def send(
        self, chat_id: str, text: str, buttons: Buttons | None = ..., *, reply_to: int | None = ...
    ) -> int: ...
    async def prompt(self, chat_id: str, text: str, *, reply_to: int | None = ...) -> int: ...
    async def edit(self, chat_id: str, message_id: int, text: str, buttons: Buttons | None = ...) -> None: ...
    async def answer(self, query_id: str, text: str, *, alert: bool = ...) -> None: ...


@dataclass(frozen=True, slots=True)
class ReviewConfig:
    targets: tuple[str, ...]  # REVIEW_CHAT_ID, else each admin's private chat
    admin_ids: frozenset[int]
    expiry: timedelta
    zone: tzinfo
    render: Callable[[OutboxItem], str]  # the channel post's HTML, as the publisher renders it
    poll_seconds: float = 2.0
    link_wait: float = 2.0  # seconds a decision waits for its post before showing "sending…"


class ReviewService:
    def __init__(
        self,
        store: ReviewStore,
        make_sender: Callable[[Any], Send],
        config: ReviewConfig,
        audit: Audit,
        *,
        on_decided: Callable[[], None] = lambda: None,
        channel_username: Callable[[str], str | None] = lambda _chat: None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.make_sender = make_sender
        self.config = config
        self.audit = audit
        self.on_decided = on_decided
        self.channel_username = channel_username
        self.clock = clock
        self._wake = asyncio.Event()
        self._secret: str | None = None
        self.window = RateWindow(GROUP_LIMIT, 60.0)  # the editors' group shares Telegram's 20 a minute

    def wake(self) -> None:
        self._wake.set()

    async def secret(self) -> str:
        if self._secret is None:
            self._secret = await self.store.secret()
        return self._secret

    # -- the loop: previews out, expiry, outcomes linked --------------------------------------------------

    async def loop(self, bot: Any, stop: asyncio.Event) -> None:
        if bot is None:
            return
        sender = self.make_sender(bot)
        await every(
            lambda: self.step(sender), stop, seconds=self.config.poll_seconds, name="review", wake=self._wake
        )

    async def step(self, sender: Send) -> None:
        for article_id in await self.store.unannounced():
            await self.announce(sender, article_id)
        now = self.clock()
        for article_id in await self.store.expire(now - self.config.expiry, now):
            log.info("review_expired", article_id=article_id)
            await self._show_outcome(sender, article_id, link=None)
        for article_id, chat_id, message_id in await self.store.unshown_outcomes():
            if chat_id and message_id:
                link = post_link(chat_id, self.channel_username(chat_id), message_id)
                await self._show_outcome(sender, article_id, link=link, unsent=link is None)
            else:  # its post ended without going out (failed, skipped, unknown after a crash)
                await self._show_outcome(sender, article_id, link=None, unsent=True)

    async def _preview(self, article_id: int) -> str | None:
        item = await self.store.item(article_id)
        review = await self.store.get(article_id)
        if item is None or review is None:
            return None
        try:
            post = self.config.render(item)
        except Exception as exc:  # noqa: BLE001 - a post that cannot render is shown as its headline
            log.warning("review_render_failed", article_id=article_id, error=repr(exc))
            post = "(this post cannot be rendered)"
        return preview_html(
            post, article_id=article_id, source=item.source, breaking=item.breaking, edited=review.edited
        )

    async def announce(self, sender: Send, article_id: int) -> None:
        """Send the article's preview with the review buttons to every review chat (paced per chat)."""
        text = await self._preview(article_id)
        if text is None:
            return
        buttons = keyboard(article_id, await self.secret())
        sent: list[tuple[str, int]] = []
        for chat_id in self.config.targets:
            call = functools.partial(sender.send, chat_id, text, buttons)
            message_id = await self._paced(chat_id, call, wait=True, event="review_preview_failed")
            if message_id is not None:
                sent.append((chat_id, message_id))
        if sent or not self.config.targets:
            await self.store.add_messages(article_id, sent, "preview", self.clock())
            log.info("review_requested", article_id=article_id, chats=len(sent))

    async def _show_outcome(
        self,
        sender: Send,
        article_id: int,
        *,
        link: str | None,
        note: str | None = None,
        wait: bool = True,
        unsent: bool = False,
    ) -> None:
        """Replace the buttons of every preview with the outcome; when a chat's budget is spent and `wait`
        is False (a handler), the loop shows it later. `unsent`: the post's story has ended without a link
        (it was not sent, or its chat has no link): shown as it is, once."""
        review = await self.store.get(article_id)
        text = await self._preview(article_id)
        if review is None or text is None:
            await self.store.outcome_shown(article_id)
            return
        hours = self.config.expiry.total_seconds() / 3600
        line = note or outcome_line(review.decided, self.config.zone, link=link, expiry_hours=hours)
        if unsent and note is None and link is None and review.state not in ("skip", "expired"):
            line += await self._why_unsent(article_id)
        shown = True
        for chat_id, message_id in await self.store.messages(article_id):

            async def edit(chat_id: str = chat_id, message_id: int = message_id) -> bool:
                await sender.edit(chat_id, message_id, f"{text}\n\n{line}")
                return True

            done = await self._paced(chat_id, edit, wait=wait, event="review_outcome_failed")
            shown = shown and done is True
        if shown and note is None and (link is not None or unsent or review.state in ("skip", "expired")):
            await self.store.outcome_shown(article_id)

    async def _why_unsent(self, article_id: int) -> str:
        """ " · not posted" when none of the article's posts went out (/status says why); nothing when one
        did but its chat has no public link."""
        return "" if await self.store.posted(article_id) is not None else " · not posted (see /status)"

    async def _paced(
        self, chat_id: str, call: Callable[[], Awaitable[T]], *, wait: bool, event: str
    ) -> T | None:
        """One call to a review chat within its budget (groups: 20 a minute, as Telegram counts; any chat:
        nothing before a 429's retry_after has passed); None when it did not happen (no budget left and
        `wait` is False, a 429, or an error, which is logged)."""
        group = chat_id.startswith("-")
        pause = self.window.wait_time(chat_id, time.monotonic())  # private chats: only a 429's block
        if pause > 0:
            if not wait or pause > MAX_PACE_WAIT:
                return None
            await asyncio.sleep(pause)
        try:
            result = await call()
        except FloodWait as exc:
            self.window.block(chat_id, time.monotonic() + exc.retry_after)
            log.info(event, chat_id=chat_id, error=str(exc))
            return None
        except DeliveryError as exc:
            log.warning(event, chat_id=chat_id, error=str(exc))
            return None
        finally:
            if group:
                self.window.record(chat_id, time.monotonic())
        return result

    # -- presses and replies ------------------------------------------------------------------------------

    async def press(  # noqa: PLR0917 - what a callback query carries
        self, bot: Any, query_id: str, data: str | None, actor: Actor, chat_id: str, message_id: int | None
    ) -> None:
        """An inline button under a preview was pressed (by anyone: only admins decide)."""
        sender = self.make_sender(bot)
        decoded = decode(data, await self.secret())
        if decoded is None:
            await self._answer(sender, query_id, "This button is no longer valid.")
            return
        action, article_id = decoded
        if actor.id not in self.config.admin_ids:
            log.warning("review_refused", user_id=actor.id, article_id=article_id)
            await self._answer(sender, query_id, "Only editors can decide.", alert=True)
            return
        review = await self.store.get(article_id)
        if review is None:
            await self._answer(sender, query_id, "This article is no longer in review.")
            return
        if review.state != "pending":
            await self._answer(sender, query_id, "Already decided: " + _plain(review.decided, self.config))
            return
        if action == "edit":
            await self._ask_edit(sender, query_id, article_id, chat_id, message_id)
            return
        await self._decide(sender, query_id, action, article_id, actor)

    async def _decide(
        self, sender: Send, query_id: str, action: Action, article_id: int, actor: Actor
    ) -> None:
        assert actor.id is not None
        won = await self.store.decide(
            article_id, action, by_id=actor.id, by=_first_name(actor), now=self.clock()
        )
        if not won:
            review = await self.store.get(article_id)
            decided = _plain(review.decided, self.config) if review is not None else "by another editor"
            await self._answer(sender, query_id, "Already decided: " + decided)
            return
        self.on_decided()  # the publisher looks at the outbox now
        log.info("review_decided", article_id=article_id, action=action, user_id=actor.id)
        await self._answer(sender, query_id, _ANSWERS[action])
        await self.audit.record(actor, f"review {action}", f"article {article_id}")
        if action == "skip":
            await self._show_outcome(sender, article_id, link=None, wait=False)
            return
        # The publisher usually posts within milliseconds: wait a little so the previews change once, with
        # the link (half the edits in the editors' group, which shares the 20-a-minute limit).
        posted = None
        for _ in range(int(self.config.link_wait / 0.05)):
            posted = await self.store.posted(article_id)
            if posted is not None:
                break
            await asyncio.sleep(0.05)
        if posted is not None:
            link = post_link(posted[0], self.channel_username(posted[0]), posted[1])
            await self._show_outcome(sender, article_id, link=link, wait=False)
            return
        review = await self.store.get(article_id)
        if review is not None:
            note = outcome_line(review.decided, self.config.zone) + " · sending…"
            await self._show_outcome(sender, article_id, link=None, note=note, wait=False)

    async def _ask_edit(
        self, sender: Send, query_id: str, article_id: int, chat_id: str, message_id: int | None
    ) -> None:
        text = (
            f"✏️ Editing #{article_id}: reply to this message with the new headline on the first line "
            "and the dek below it (plain text)."
        )
        try:
            prompt = await sender.prompt(chat_id, text, reply_to=message_id)
        except DeliveryError as exc:
            await self._answer(sender, query_id, f"Could not ask for the edit: {exc}")
            return
        await self.store.add_messages(article_id, [(chat_id, prompt)], "prompt", self.clock())
        await self._answer(sender, query_id, "Reply to my message with the new headline and dek.")

    async def reply(  # noqa: PLR0917 - what a reply carries
        self, bot: Any, chat_id: str, reply_to: int, text: str, actor: Actor, message_id: int
    ) -> bool:
        """A reply in a chat: True when it answered one of our edit prompts (handled), else False."""
        article_id = await self.store.prompt_for(chat_id, reply_to)
        if article_id is None:
            return False
        sender = self.make_sender(bot)
        if actor.id not in self.config.admin_ids:
            return True  # someone else replied to the prompt: not an edit
        edit = parse_edit(text)
        if edit is None:
            await sender.send(
                chat_id, "Send the headline on the first line, the dek below it.", reply_to=message_id
            )
            return True
        if not await self.store.edit(article_id, edit.headline, edit.dek):
            review = await self.store.get(article_id)
            decided = _plain(review.decided, self.config) if review is not None else "no longer in review"
            await sender.send(chat_id, f"Too late to edit: {decided}", reply_to=message_id)
            return True
        await self.audit.record(actor, "review edit", f"article {article_id}: {edit.headline}")
        await self._show_outcome(
            sender,
            article_id,
            link=None,
            note=f"✏️ Edited by {_first_name(actor)}: see the new preview below.",
            wait=False,
        )
        if edit.cut:
            await sender.send(
                chat_id, "That was longer than a post allows, so it was shortened.", reply_to=message_id
            )
        self.wake()  # the loop sends the new preview with the same buttons, within the chat's budget
        return True

    async def _answer(self, sender: Send, query_id: str, text: str, *, alert: bool = False) -> None:
        try:
            await sender.answer(query_id, text, alert=alert)
        except DeliveryError as exc:  # too old (the bot was down): nothing to do
            log.info("callback_answer_failed", error=str(exc))


def _first_name(actor: Actor) -> str:
    return actor.name.rsplit(" (", 1)[0]


def _plain(decided: Decided, config: ReviewConfig) -> str:
    hours = config.expiry.total_seconds() / 3600
    return html.unescape(outcome_line(decided, config.zone, expiry_hours=hours))
