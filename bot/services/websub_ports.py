"""What the WebSub service sees of the world: its storage, the hubs and ingest as Protocols; its configuration
and what a push came to.

The concrete classes (bot/adapters/repo_websub.py, bot/adapters/hub_client.py, bot/services/push_ingest.py)
are chosen in bot/edges/runtime.py; the service itself is `websub.py`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, Protocol

from bot.core.websub_plan import LEASE_SECONDS, HubFeed, Subscription, SubState


class SubscriptionStore(Protocol):
    async def hub_feeds(self) -> list[HubFeed]: ...
    async def all(self) -> list[Subscription]: ...
    async def by_token(self, token: str) -> Subscription | None: ...
    async def get(self, sub_id: int) -> Subscription | None: ...
    async def create(
        self,
        feed: HubFeed,
        *,
        callback: str,
        token: str,
        secret: str,
        now: datetime,
        next_action_at: datetime,
    ) -> Subscription | None: ...
    async def update(self, sub_id: int, *, only_in: tuple[SubState, ...] = ..., **changes: Any) -> bool: ...
    async def record_push(self, sub_id: int, now: datetime) -> None: ...
    async def delete(self, sub_id: int) -> None: ...


class HubAnswerLike(Protocol):
    @property
    def accepted(self) -> bool: ...
    @property
    def status(self) -> int | None: ...
    @property
    def reason(self) -> str: ...


class HubRequests(Protocol):
    async def request(self, hub: str, fields: Mapping[str, str], *, origin: str) -> HubAnswerLike: ...


class PushSink(Protocol):
    async def ingest_pushed(self, feed_id: int, body: bytes, *, content_type: str | None) -> object: ...
    def fetch_soon(self, feed_id: int) -> None: ...


@dataclass(frozen=True, slots=True)
class WebSubConfig:
    public_url: str  # PUBLIC_URL, no trailing slash
    lease_seconds: int = LEASE_SECONDS
    reconcile_every: float = 60.0  # seconds: feeds removed or disabled by another process are seen this late
    max_pending: int = 16  # pushes held (bodies in memory) before the feed is read instead
    push_concurrency: int = 2

    @property
    def callback_base(self) -> str:
        return f"{self.public_url}/websub"


class Verdict(Enum):
    """What a push came to; `status` is the HTTP answer (ignored and accepted look alike to the sender)."""

    UNKNOWN = "unknown"  # no such callback: 404
    GONE = "gone"  # a callback being unsubscribed: 410, and the hub may drop it
    IGNORED = "ignored"  # acknowledged, not taken (bad or missing signature): 202
    ACCEPTED = "accepted"  # signed: being ingested: 202

    @property
    def status(self) -> int:
        return {"unknown": 404, "gone": 410}.get(self.value, 202)
