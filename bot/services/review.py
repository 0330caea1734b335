"""The review queue: previews of new articles go to the editors with buttons; an admin's press decides
(the first one wins), an Edit reply changes the post, and undecided articles expire.

This module is what editors do (presses, edit prompts and replies); what they see (the loop: previews,
expiry, outcomes) is ReviewBoard's (bot/services/review_board.py). Ports: bot/services/review_ports.py;
wording and button data: bot/core/review.py. The publisher posts what is decided; a decision wakes it.
"""

from __future__ import annotations

import asyncio
import html
from typing import Any

import structlog

from bot.core.delivery import DeliveryError
from bot.core.review import Action, Decided, decode, outcome_line, parse_edit, post_link
from bot.services.audit import Actor
from bot.services.review_board import ReviewBoard
from bot.services.review_ports import ReviewConfig, Send

__all__ = ["ReviewConfig", "ReviewService"]

log = structlog.get_logger(__name__)
_ANSWERS = {
    "post": "Posting it now.",
    "silent": "Posting it silently.",
    "breaking": "Posting it as breaking news.",
    "skip": "Skipped.",
}


class ReviewService(ReviewBoard):
    """The review queue: ReviewBoard's loop, and the editors' presses and edit replies."""

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
