"""The publisher: drains the outbox to Telegram oldest first per chat, paced, retried, paused, corrected.

It decides what each outcome means (see bot/core/delivery.py); SQL is the outbox repository's and the
Telegram calls are the sender's, both seen through the Protocols in outbox_ports.py; edits are
corrections.py's. Nothing here may stop the bot.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import structlog

from bot.core.daytime import holding, notify
from bot.core.delivery import (
    BadMarkup,
    ChatForbidden,
    ChatMoved,
    DeliveryError,
    DeliveryUnknown,
    FloodWait,
    OutboxItem,
    TooLong,
    TransientError,
    backoff_seconds,
)
from bot.core.pacing import Pacer
from bot.core.render import RenderError, validate_template
from bot.core.status import PublishStats, publish_lines
from bot.core.timeutil import utcnow
from bot.services.corrections import Corrector
from bot.services.outbox_ports import OutboxStore, PublisherConfig, Sender, not_before
from bot.services.pins import Pins, PinStore

__all__ = ["OutboxStore", "Publisher", "PublisherConfig", "Sender"]

log = structlog.get_logger(__name__)

# Recording a post that Telegram accepted: the first try, then one more after each of these waits (seconds).
RECORD_RETRY_DELAYS: tuple[float, ...] = (0.2, 0.5, 1.0)


class Publisher:
    """Owns the outbox loop: `loop(bot, stop)` runs under the runtime's supervisor; admins pause/resume."""

    def __init__(
        self,
        store: OutboxStore,
        make_sender: Callable[[Any], Sender],
        config: PublisherConfig,
        *,
        clock: Callable[[], datetime] = utcnow,
        monotonic: Callable[[], float] = time.monotonic,
        pins: PinStore | None = None,
    ) -> None:
        validate_template(config.template)
        self.store = store
        self.config = config
        self._make_sender = make_sender
        self._clock = clock
        self._mono = monotonic
        self.pacer = Pacer.telegram(config.posts_per_window, config.window_seconds, config.global_per_second)
        self._wake = asyncio.Event()
        self.corrector = Corrector(store, config, self.pacer, clock=clock, monotonic=monotonic)
        # Breaking posts are pinned (PIN_BREAKING) and unpinned after PIN_HOURS; no store, no pins.
        self.pins = (
            None
            if pins is None
            else Pins(pins, pin_for=config.pin_for, pacer=self.pacer, clock=clock, monotonic=monotonic)
        )
        self.record_retry_delays = RECORD_RETRY_DELAYS
        # Sent but not recorded (mark_sent kept failing): outbox id → mark_sent's arguments. These rows stay
        # `sending`; they are never claimed again in this process and their record is retried on recover().
        self._unrecorded: dict[int, dict[str, Any]] = {}

    # -- admin and runtime API -----------------------------------------------------------------------------

    def wake(self) -> None:
        """New posts were queued (or a pause lifted): look at the outbox now rather than at the next poll."""
        self._wake.set()

    async def pause(self, reason: str = "paused by an admin") -> None:
        await self.store.pause_all(reason, now=self._clock())
        log.info("posting_paused", reason=reason)

    async def resume(self) -> list[str]:
        """Lift the global pause and every channel's 403 pause; returns what was paused ("*" = all)."""
        resumed = await self.store.resume_all()
        log.info("posting_resumed", resumed=resumed)
        self.wake()
        return resumed

    async def stats(self) -> PublishStats:
        return await self.store.stats()

    async def status_text(self) -> str:
        return "\n".join(publish_lines(await self.stats(), self._clock()))

    # -- the loop ------------------------------------------------------------------------------------------

    async def loop(self, bot: Any, stop: asyncio.Event) -> None:
        if bot is None:
            log.info("publisher_disabled", reason="no Telegram bot in this process")
            return
        sender = self._make_sender(bot)
        await self.recover()
        while not stop.is_set():
            try:
                wait = await self.step(sender)
            except Exception as exc:  # a database hiccup or a bug: log, breathe, go on
                log.exception("publisher_step_failed", error=repr(exc))
                wait = 2.0
            if wait > 0:
                await self._idle(wait, stop)

    async def recover(self) -> list[OutboxItem]:
        """Apply the in-flight rule to posts a dead process left in `sending`.

        Posts this process sent but could not record are recorded first; while any still cannot be, the
        in-flight rule waits for the next start rather than resend (or give up on) a post that is out.
        """
        for outbox_id, record in list(self._unrecorded.items()):
            try:
                await self.store.mark_sent(outbox_id, **record, now=self._clock())
            except Exception as exc:  # noqa: BLE001 - the store is still failing: keep the row out
                log.error(
                    "post_sent_unrecorded",
                    outbox_id=outbox_id,
                    message_id=record["message_id"],
                    error=repr(exc),
                )
            else:
                del self._unrecorded[outbox_id]
                log.info("post_sent_recorded_late", outbox_id=outbox_id, message_id=record["message_id"])
        if self._unrecorded:
            return []
        items = await self.store.recover_in_flight(resend=self.config.resend_in_flight, now=self._clock())
        event = "outbox_in_flight_resent" if self.config.resend_in_flight else "outbox_in_flight_unknown"
        for item in items:
            log.warning(
                event, outbox_id=item.id, article_id=item.article_id, chat_id=item.chat_id, url=item.url
            )
        return items

    async def _idle(self, seconds: float, stop: asyncio.Event) -> None:
        waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
            await asyncio.gather(*waiters, return_exceptions=True)
        self._wake.clear()

    async def step(self, sender: Sender) -> float:
        """Do one thing (an admin notice round, an edit or a post); returns seconds to wait, 0 to go on."""
        await self._tell_admins(sender)
        if await self.store.global_pause() is not None:
            return self.config.poll_seconds
        now = self._clock()
        wait = self.config.poll_seconds
        if self.pins is not None:
            await self.pins.expire(sender)
        for item in await self.store.due_edits(now):
            pause = self.pacer.wait_time(item.chat_id, self._mono())
            if pause <= 0:
                await self.corrector.edit(sender, item)
                return 0.0
            wait = min(wait, pause)
        held = holding(now, self.config.quiet_window, self.config.zone, self.config.quiet_mode)
        for item in await self.store.due_heads(now, breaking_only=held is not None):
            pause = self.pacer.wait_time(item.chat_id, self._mono())
            if pause <= 0:
                await self._post(sender, item)
                return 0.0
            wait = min(wait, pause)
        return wait

    # -- posts ---------------------------------------------------------------------------------------------

    async def _post(self, sender: Sender, item: OutboxItem) -> None:
        bound = log.bind(outbox_id=item.id, article_id=item.article_id, chat_id=item.chat_id)
        if item.id in self._unrecorded or not await self.store.claim(item.id):
            return
        attempt = item.attempts + 1
        try:
            message_id, text = await self._deliver(sender, item)
        except RenderError as exc:
            await self.store.finish(item.id, "failed", reason=str(exc), now=self._clock())
            bound.error("post_failed", reason=str(exc))
            return
        except DeliveryError as exc:
            await self._after_failure(item, attempt, exc)
            return
        except Exception as exc:  # noqa: BLE001 - e.g. an unreadable answer: the message may be out
            bound.exception("post_send_crashed", error=repr(exc))
            await self._after_failure(item, attempt, DeliveryUnknown(item.chat_id, f"unexpected {exc!r}"))
            return
        record: dict[str, Any] = {
            "message_id": message_id,
            "text": text,
            "headline": item.headline,
            "dek": item.dek,
        }
        for delay in (*self.record_retry_delays, None):
            try:
                latency = await self.store.mark_sent(item.id, **record, now=self._clock())
            except Exception as exc:  # noqa: BLE001 - the post is out: never let it be claimed or sent again
                if delay is None:
                    self._unrecorded[item.id] = record
                    bound.error("post_sent_unrecorded", message_id=message_id, error=repr(exc))
                    return
                bound.warning("post_record_retry", message_id=message_id, delay=delay, error=repr(exc))
                await asyncio.sleep(delay)
            else:
                bound.info("post_sent", message_id=message_id, attempt=attempt, latency_ms=latency)
                if item.breaking and self.config.pin_breaking and self.pins is not None:
                    await self._pin(item.chat_id, message_id, sender)
                return

    async def _deliver(self, sender: Sender, item: OutboxItem) -> tuple[int, str]:
        """Send the post; on "can't parse entities" once more as plain text, on "too long" once shorter."""
        text = self.config.render(item)
        try:
            return await self._send(sender, item, text, html=True), text
        except BadMarkup as exc:
            log.warning("post_markup_rejected", outbox_id=item.id, error=exc.reason)
            text, html = self.config.plain(item), False
        except TooLong as exc:
            log.warning("post_too_long", outbox_id=item.id, error=exc.reason)
            text, html = self.config.render(item, limit=self.config.text_limit // 2), True
        return await self._send(sender, item, text, html=html), text

    async def _send(self, sender: Sender, item: OutboxItem, text: str, *, html: bool) -> int:
        """One sendMessage, counted against the budgets when it ends: Telegram counted it before then."""
        rings = notify(
            breaking=item.breaking,
            silent=item.silent,
            now=self._clock(),
            window=self.config.quiet_window,
            zone=self.config.zone,
            default_silent=self.config.disable_notification,
        )
        try:
            return await sender.send(
                item.chat_id,
                text,
                html=html,
                preview_url=item.url,
                silent=not rings,
                button=self.config.button(item, sender.username),
            )
        finally:
            self.pacer.record(item.chat_id, self._mono())

    async def _pin(self, chat_id: str, message_id: int, sender: Sender) -> None:
        assert self.pins is not None
        try:
            await self.pins.pin(sender, chat_id, message_id)
        except Exception as exc:  # the post is out and recorded: a pin never stops posting
            log.exception("pin_crashed", chat_id=chat_id, message_id=message_id, error=repr(exc))

    async def _after_failure(self, item: OutboxItem, attempt: int, exc: DeliveryError) -> None:
        now = self._clock()
        bound = log.bind(outbox_id=item.id, article_id=item.article_id, chat_id=item.chat_id, attempt=attempt)
        if isinstance(exc, FloodWait):
            self.pacer.per_chat.block(item.chat_id, self._mono() + exc.retry_after)
            await self.store.requeue(
                item.id, not_before=not_before(now, exc.retry_after), error=str(exc), now=now
            )
            bound.warning("post_flood_wait", retry_after=exc.retry_after)
        elif isinstance(exc, TransientError) or (
            isinstance(exc, DeliveryUnknown) and self.config.resend_in_flight
        ):
            if now - item.queued_at > self.config.give_up_after:
                reason = f"gave up after {attempt} attempts: {exc.reason}"
                await self.store.finish(item.id, "failed", reason=reason, now=now)
                bound.error("post_failed", reason=reason)
                return
            delay = backoff_seconds(attempt, base=self.config.backoff_base, cap=self.config.max_backoff)
            self.pacer.per_chat.block(item.chat_id, self._mono() + delay)  # posts keep their order
            await self.store.requeue(item.id, not_before=not_before(now, delay), error=str(exc), now=now)
            bound.warning("post_retry", delay=delay, error=exc.reason)
        elif isinstance(exc, DeliveryUnknown):
            await self.store.finish(
                item.id, "unknown", reason=f"maybe delivered, not re-sent: {exc.reason}", now=now
            )
            bound.warning("outbox_in_flight_unknown", reason=exc.reason)
        elif isinstance(exc, ChatForbidden):
            await self.store.requeue(item.id, not_before=now, error=str(exc), now=now)
            if await self.store.pause_channel(item.chat_id, exc.reason, now=now):
                bound.error("channel_paused", reason=exc.reason)
            else:  # a group that removed the bot: its subscriptions ended, its queue skipped
                bound.warning("group_ended", reason=exc.reason)
        elif isinstance(exc, ChatMoved):
            await self.store.requeue(item.id, not_before=now, error=str(exc), now=now)
            await self.store.move_chat(item.chat_id, exc.new_chat_id, now=now)
            bound.warning("chat_migrated", new_chat_id=exc.new_chat_id)
        else:  # Rejected, or the fallback failed too: retrying cannot help
            await self.store.finish(item.id, "failed", reason=exc.reason, now=now)
            bound.error("post_failed", reason=exc.reason)

    # -- admin notices -------------------------------------------------------------------------------------

    async def _tell_admins(self, sender: Sender) -> None:
        """Each channel pause is told to every admin once; failures to reach an admin are only logged."""
        for paused in await self.store.unnotified_pauses():
            text = (
                f"⏸ Posting to {paused.chat_id} is paused. Telegram said: {paused.reason}\n\n"
                "Make the bot an administrator of the channel with the right to post messages, then send "
                "/resume. Posts queued meanwhile are kept and will go out in order."
            )
            told = 0
            for admin_id in self.config.admin_ids:
                self.pacer.record_global(self._mono())
                try:
                    told += await sender.notify(admin_id, text)
                except Exception as exc:  # noqa: BLE001 - nothing about an admin's chat may stop posting
                    log.warning("admin_notice_failed", admin_id=admin_id, error=repr(exc))
            await self.store.mark_notified(paused.chat_id)
            log.warning("admins_notified", chat_id=paused.chat_id, admins=told, reason=paused.reason)
