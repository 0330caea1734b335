"""WebSub subscriptions, the pure decisions: what to do next with each, and which hub requests to confirm.

A feed that advertises a hub (`HubFeed`: ingest stores the hub and topic it discovered) gets one live
`Subscription`; `plan` compares the two lists and says what the WebSub service should do now:

- a wanted feed without a live subscription: SUBSCRIBE (a new callback and secret);
- a live subscription whose feed is gone, disabled or now names another hub or topic, or whose callback
  is not under today's PUBLIC_URL: UNSUBSCRIBE it if the hub may hold it (requested, verified), else DROP;
- a verified one: RENEW once `RENEW_AT` of its lease has passed, EXPIRE once the lease is over (the
  renewal was never confirmed: the feed falls back to polling);
- a requested one the hub has not confirmed within `VERIFY_WAIT`: GIVE_UP (failed, retried later);
- a denied or failed one: RETRY after its backoff (`retry_delay`);
- an unsubscribing one: UNSUBSCRIBE again until `MAX_UNSUBSCRIBE` attempts, then DROP (the lease ends
  on its own, and pushes to a dropped callback get 404).

`confirms` is the answer to the hub's verification GET: only what the bot asked for, same topic and mode.
The service (`bot/services/websub.py`) does the I/O and the writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Literal

__all__ = [
    "LEASE_SECONDS",
    "Action",
    "HubFeed",
    "Step",
    "SubState",
    "Subscription",
    "confirms",
    "plan",
    "push_note",
    "renew_at",
    "retry_delay",
]

SubState = Literal["requested", "verified", "denied", "failed", "unsubscribing"]
LEASE_SECONDS = 10 * 86_400  # asked for; the hub decides (and says so when it verifies)
RENEW_AT = 0.75  # of the lease: renewed then, leaving a quarter for the hub to confirm
VERIFY_WAIT = timedelta(minutes=10)  # a request the hub has not confirmed by then has failed
FIRST_RETRY = timedelta(minutes=5)
MAX_RETRY = timedelta(hours=6)
DENIED_RETRY = timedelta(hours=24)
MAX_UNSUBSCRIBE = 3  # requests to unsubscribe before the row is dropped anyway


@dataclass(frozen=True, slots=True)
class HubFeed:
    """A feed that advertises a hub, as ingest last read it."""

    feed_id: int
    hub: str
    topic: str
    enabled: bool
    url: str = ""  # where the feed is read from (the hub and topic are only what the feed says)


@dataclass(frozen=True, slots=True)
class Subscription:
    """One subscription row: a callback (`token` is its last path segment) with its secret and state."""

    id: int
    feed_id: int | None  # None once the feed was removed
    hub: str
    topic: str
    callback: str
    token: str
    secret: str
    state: SubState
    next_action_at: datetime
    lease_seconds: int | None = None
    expires_at: datetime | None = None
    attempts: int = 0
    last_error: str | None = None
    verified_at: datetime | None = None
    last_push_at: datetime | None = None

    @property
    def live(self) -> bool:
        """Wanted by the bot (not being unsubscribed)."""
        return self.state != "unsubscribing"

    def pushed(self, now: datetime) -> bool:
        """Confirmed by the hub and within its lease: the hub pushes this feed's changes."""
        return self.state == "verified" and self.expires_at is not None and now < self.expires_at


class Step(Enum):
    SUBSCRIBE = "subscribe"  # a new subscription for `feed`
    RENEW = "renew"  # ask again before the lease ends (same callback and secret)
    RETRY = "retry"  # ask again after a denial or failure
    GIVE_UP = "give_up"  # the hub never confirmed: failed
    EXPIRE = "expire"  # the lease ended unrenewed: failed
    UNSUBSCRIBE = "unsubscribe"
    DROP = "drop"  # forget the row


@dataclass(frozen=True, slots=True)
class Action:
    step: Step
    feed: HubFeed | None = None
    sub: Subscription | None = None


def plan(
    feeds: Sequence[HubFeed], subs: Sequence[Subscription], now: datetime, *, callback_base: str
) -> list[Action]:
    """What to do now, in order (a replaced subscription is let go before its successor is asked for)."""
    wanted = {f.feed_id: f for f in feeds if f.enabled}
    actions: list[Action] = []
    covered: set[int] = set()
    for sub in subs:
        if not sub.live:
            if now >= sub.next_action_at:
                step = Step.UNSUBSCRIBE if sub.attempts < MAX_UNSUBSCRIBE else Step.DROP
                actions.append(Action(step, sub=sub))
            continue
        feed = wanted.get(sub.feed_id) if sub.feed_id is not None else None
        current = (
            feed is not None
            and (feed.hub, feed.topic) == (sub.hub, sub.topic)
            and sub.callback.startswith(f"{callback_base}/")
        )
        if not current:
            held = sub.state in ("requested", "verified")
            actions.append(Action(Step.UNSUBSCRIBE if held else Step.DROP, sub=sub))
            continue
        covered.add(feed.feed_id)  # type: ignore[union-attr]  # `current` implies a feed
        if now < sub.next_action_at:
            continue
        if sub.state == "verified":
            expired = sub.expires_at is not None and now >= sub.expires_at
            actions.append(Action(Step.EXPIRE if expired else Step.RENEW, feed=feed, sub=sub))
        elif sub.state == "requested":
            actions.append(Action(Step.GIVE_UP, feed=feed, sub=sub))
        else:
            actions.append(Action(Step.RETRY, feed=feed, sub=sub))
    actions += [Action(Step.SUBSCRIBE, feed=f) for f in wanted.values() if f.feed_id not in covered]
    return actions


def renew_at(now: datetime, lease_seconds: int) -> datetime:
    """When a lease confirmed `now` is renewed."""
    return now + timedelta(seconds=max(1.0, lease_seconds * RENEW_AT))


def retry_delay(attempts: int, *, denied: bool = False) -> timedelta:
    """The wait before asking again after `attempts` failed requests (a denial waits a day)."""
    if denied:
        return DENIED_RETRY
    exponent = min(max(attempts - 1, 0), 16)
    return min(FIRST_RETRY * (1 << exponent), MAX_RETRY)


def confirms(sub: Subscription | None, *, mode: str, topic: str) -> bool:
    """Whether the bot confirms a hub's verification GET: a (un)subscription it asked for, same topic."""
    if sub is None or topic != sub.topic:
        return False
    if mode == "subscribe":
        return sub.live and sub.feed_id is not None
    if mode == "unsubscribe":
        return not sub.live
    return False


_NOTES = {
    "requested": "WebSub: waiting for the hub to confirm",
    "denied": "WebSub denied",
    "failed": "WebSub failed",
    "lapsed": "WebSub lease lapsed",
}


def push_note(push: str | None, error: str | None) -> str | None:
    """What /feeds and `newsbot feeds list` add about a feed's WebSub subscription that is not pushing
    (`Feed.push`, `Feed.push_error`): it is polled meanwhile. None when pushed or never subscribed."""
    words = _NOTES.get(push or "")
    if words is None:
        return None
    return f"{words}: {error}; polled" if error else f"{words}; polled"
