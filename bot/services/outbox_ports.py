"""What the publisher sees of the world: its storage and Telegram as Protocols, and its configuration.

The concrete classes (bot/adapters/repo_outbox.py, bot/adapters/telegram_sender.py) are chosen in
bot/edges/runtime.py; the decisions made with these are in publisher.py and corrections.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Protocol

from bot.core.daytime import QuietWindow
from bot.core.deeplinks import deep_link, topic_payload
from bot.core.delivery import OutboxItem
from bot.core.render import TEXT_LIMIT, breaking_mark, render_plain, render_post
from bot.core.status import PausedChannel, PublishStats

if TYPE_CHECKING:
    from bot.core.policy import PostPolicy
    from bot.settings import Settings


class OutboxStore(Protocol):
    async def recover_in_flight(self, *, resend: bool, now: datetime) -> list[OutboxItem]: ...
    async def due_heads(
        self, now: datetime, limit: int = ..., *, breaking_only: bool = ...
    ) -> list[OutboxItem]: ...
    async def claim(self, outbox_id: int) -> bool: ...
    async def mark_sent(
        self, outbox_id: int, *, message_id: int, text: str, headline: str, dek: str, now: datetime
    ) -> int | None: ...
    async def requeue(self, outbox_id: int, *, not_before: datetime, error: str, now: datetime) -> None: ...
    async def finish(self, outbox_id: int, state: str, *, reason: str, now: datetime) -> None: ...
    async def move_chat(self, old: str, new: str, *, now: datetime) -> None: ...
    async def due_edits(self, now: datetime, limit: int = ...) -> list[OutboxItem]: ...
    async def edit_done(self, outbox_id: int, *, text: str | None, headline: str, dek: str) -> None: ...
    async def edit_later(
        self, outbox_id: int, *, not_before: datetime, error: str, now: datetime
    ) -> None: ...
    async def edit_failed(self, outbox_id: int, *, reason: str, now: datetime) -> None: ...
    async def pause_channel(self, chat_id: str, reason: str, *, now: datetime) -> bool: ...
    async def unnotified_pauses(self) -> list[PausedChannel]: ...
    async def mark_notified(self, chat_id: str) -> None: ...
    async def pause_all(self, reason: str, *, now: datetime) -> None: ...
    async def global_pause(self) -> PausedChannel | None: ...
    async def resume_all(self) -> list[str]: ...
    async def stats(self, *, sample: int = ..., unknown_shown: int = ...) -> PublishStats: ...


LinkButton = tuple[str, str]  # (label, URL) of one URL button under a post


class Sender(Protocol):
    @property
    def username(self) -> str | None: ...
    async def send(
        self,
        chat_id: str,
        text: str,
        *,
        html: bool,
        preview_url: str | None,
        silent: bool | None = ...,
        button: LinkButton | None = ...,
    ) -> int: ...
    async def pin(self, chat_id: str, message_id: int) -> None: ...
    async def unpin(self, chat_id: str, message_id: int) -> None: ...
    async def edit(
        self,
        chat_id: str,
        message_id: int,
        text: str,
        *,
        html: bool,
        preview_url: str | None,
        button: LinkButton | None = ...,
    ) -> None: ...
    async def notify(self, user_id: int, text: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class PublisherConfig:
    template: str
    resend_in_flight: bool = False  # INFLIGHT_POLICY=resend: at-least-once instead of at-most-once
    posts_per_window: int = 20  # per chat
    window_seconds: float = 60.0
    global_per_second: int = 30
    admin_ids: tuple[int, ...] = ()
    poll_seconds: float = 0.5
    backoff_base: float = 2.0  # seconds after the first failed try, doubling up to max_backoff
    max_backoff: float = 300.0
    give_up_after: timedelta = timedelta(hours=48)  # transient errors stop being retried for older posts
    edit_window: timedelta = timedelta(hours=48)
    edit_retry: timedelta = timedelta(seconds=30)
    text_limit: int = TEXT_LIMIT
    breaking_prefix: str = "🔴 BREAKING"
    disable_notification: bool = False
    quiet_window: QuietWindow | None = None
    quiet_mode: str = "silent"
    zone: tzinfo = UTC
    pin_breaking: bool = True
    pin_for: timedelta = timedelta(hours=6)
    post_buttons: str = "off"  # "topic": a "Follow <topic>" URL button under posts that have a topic

    def render(self, item: OutboxItem, *, limit: int | None = None) -> str:
        """The post as Telegram HTML from POST_TEMPLATE (RenderError when it cannot fit)."""
        return render_post(
            headline=item.headline,
            dek=item.dek,
            url=item.url,
            source=item.source,
            categories=item.categories,
            template=self.template,
            limit=limit or self.text_limit,
            breaking=self.breaking_prefix if item.breaking else "",
        )

    def plain(self, item: OutboxItem) -> str:
        """The plain-text fallback for a post Telegram refused to parse."""
        return render_plain(
            headline=breaking_mark(self.breaking_prefix if item.breaking else "") + item.headline,
            dek=item.dek,
            url=item.url,
            categories=item.categories,
            limit=self.text_limit,
        )

    def button(self, item: OutboxItem, bot_username: str | None) -> LinkButton | None:
        """POST_BUTTONS=topic: "Follow <topic>" opening the topic's deep link; None when off or no link.

        Edits pass the same button again: an edit without reply_markup would remove it.
        """
        if self.post_buttons != "topic" or not item.topic:
            return None
        link = deep_link(bot_username, topic_payload(item.topic))
        return None if link is None else (f"Follow {item.topic[:40]}", link)

    @classmethod
    def from_settings(cls, settings: Settings, policy: PostPolicy) -> PublisherConfig:
        return cls(
            template=settings.post_template,
            resend_in_flight=settings.inflight_policy == "resend",
            posts_per_window=settings.posts_per_minute,
            admin_ids=tuple(settings.admin_ids),
            give_up_after=policy.max_post_age,
            edit_window=policy.edit_window,
            breaking_prefix=settings.breaking_prefix,
            disable_notification=settings.disable_notification,
            quiet_window=settings.quiet_window,
            quiet_mode=settings.quiet_mode,
            zone=settings.zone,
            pin_breaking=settings.pin_breaking,
            pin_for=timedelta(hours=settings.pin_hours),
            post_buttons=settings.post_buttons,
        )


def not_before(now: datetime, seconds: float) -> datetime:
    """When a retry is due. Storage keeps whole seconds (truncated), so the publisher also holds the chat
    in its pacer until the exact moment; the stored time matters only across a restart."""
    return now + timedelta(seconds=seconds)
