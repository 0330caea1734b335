"""What the ingest service needs from storage (Protocols), its configuration, and its cycle summary.

The concrete repositories are chosen in bot/edges/runtime.py; the service itself is `ingest.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from bot.core.models import Article, Feed, FetchOutcome
from bot.core.policy import PostPolicy
from bot.core.schedule import Schedule
from bot.core.topics import TopicMatcher
from bot.settings import DEFAULT_TEMPLATE

if TYPE_CHECKING:
    from bot.settings import Settings


class FeedStore(Protocol):
    async def add(self, url: str, now: datetime, *, title: str | None = ...) -> Feed: ...
    async def ensure(self, url: str, now: datetime) -> tuple[Feed, bool]: ...
    async def get(self, feed_id: int) -> Feed | None: ...
    async def by_url(self, url: str) -> Feed | None: ...
    async def all(self, *, enabled_only: bool = ...) -> list[Feed]: ...
    async def due(self, now: datetime) -> list[Feed]: ...
    async def next_due_at(self) -> datetime | None: ...
    async def remove(self, feed_id: int) -> bool: ...
    async def record_outcomes(self, outcomes: list[FetchOutcome]) -> None: ...


class Stored(Protocol):
    @property
    def new(self) -> int: ...
    @property
    def updated(self) -> int: ...
    @property
    def queued(self) -> int: ...
    @property
    def dms_queued(self) -> int: ...


class ArticleStore(Protocol):
    async def store(
        self,
        feed_id: int,
        articles: Sequence[Article],
        *,
        now: datetime,
        first_sync: bool,
        policy: PostPolicy,
        channel_id: str | None,
        matchers: Sequence[TopicMatcher] = ...,
    ) -> Stored: ...


class TopicSource(Protocol):
    async def matchers(self) -> list[TopicMatcher]: ...


class SeedMemory(Protocol):
    async def seeded_feeds(self) -> set[str]: ...
    async def remember_seeded(self, urls: set[str]) -> None: ...


@dataclass(frozen=True, slots=True)
class IngestConfig:
    schedule: Schedule
    channel_id: str | None = None
    poll_interval: float = 120.0
    configured_feeds: tuple[str, ...] = ()
    feed_timeout: float = 120.0  # fetch + parse + article pages of one feed; storing is not cut short
    in_flight: int = 16  # feeds between fetch and store at once: bounds memory held in bodies
    flush_every: int = 200  # fetch outcomes written per transaction
    template: str = DEFAULT_TEMPLATE  # POST_TEMPLATE, for previews

    @classmethod
    def from_settings(cls, settings: Settings) -> IngestConfig:
        return cls(
            schedule=Schedule(
                interval=timedelta(seconds=settings.poll_interval_seconds),
                mode=settings.poll_schedule,
                min_interval=timedelta(seconds=settings.min_poll_interval_seconds),
                max_interval=timedelta(seconds=settings.max_poll_interval_seconds),
            ),
            channel_id=settings.channel_id,
            poll_interval=float(settings.poll_interval_seconds),
            configured_feeds=tuple(settings.feeds),
            feed_timeout=settings.fetch_timeout_seconds * 3 + 60,
            in_flight=max(settings.fetch_concurrency, 4),
            template=settings.post_template,
        )


@dataclass(frozen=True, slots=True)
class CycleSummary:
    feeds_fetched: int
    not_modified: int
    failed: int
    new_articles: int
    updated_articles: int
    seconds: float

    def line(self) -> str:
        return (
            f"fetched {self.feeds_fetched} feeds: {self.not_modified} not modified, {self.failed} failed, "
            f"{self.new_articles} new articles, {self.updated_articles} updated in {self.seconds:.2f} s"
        )
