"""What editors see of the review queue: previews of new articles with the buttons, sent to the review
chats within their budget, and the outcome that replaces the buttons (linked to the post once it is out,
or saying it expired or was not posted). ReviewBoard is the loop's half of bot/services/review.py's
ReviewService; the ports are bot/services/review_ports.py's, the wording bot/core/review.py's.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

import structlog

from bot.core.delivery import DeliveryError, FloodWait
from bot.core.pacing import RateWindow
from bot.core.review import keyboard, outcome_line, post_link, preview_html
from bot.core.timeutil import utcnow
from bot.services.audit import Audit
from bot.services.looping import every
from bot.services.review_ports import ReviewConfig, ReviewStore, Send

__all__ = ["ReviewBoard"]

log = structlog.get_logger(__name__)
T = TypeVar("T")
GROUP_LIMIT = 20  # messages a minute to one group (TELEGRAM.md); edits count too
MAX_PACE_WAIT = 30.0  # the loop waits this long at most for a group's budget, then tries at its next step


class ReviewBoard:
    """Previews out, expiry, outcomes shown; `loop` is the background task, `step` one pass of it."""

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
