"""The WebSub plan: subscribe, renew, expire, retry, give up, unsubscribe, drop; and `confirms`."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.models import Feed
from bot.core.schedule import feed_mode, reading
from bot.core.websub_plan import (
    DENIED_RETRY,
    FIRST_RETRY,
    MAX_RETRY,
    MAX_UNSUBSCRIBE,
    HubFeed,
    Step,
    Subscription,
    confirms,
    plan,
    push_note,
    renew_at,
    retry_delay,
)

NOW = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
BASE = "https://bot.example/newsbot/websub"
FEED = HubFeed(1, "https://hub.example/", "https://news.example/feed/", enabled=True)


def sub(**changes: object) -> Subscription:
    base = Subscription(
        id=7,
        feed_id=1,
        hub=FEED.hub,
        topic=FEED.topic,
        callback=f"{BASE}/tok",
        token="tok",
        secret="sec",
        state="verified",
        next_action_at=NOW + timedelta(days=5),
        lease_seconds=864_000,
        expires_at=NOW + timedelta(days=7),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def steps(feeds: list[HubFeed], subs: list[Subscription], now: datetime = NOW) -> list[Step]:
    return [a.step for a in plan(feeds, subs, now, callback_base=BASE)]


def test_a_feed_with_a_hub_and_no_subscription_is_subscribed() -> None:
    (action,) = plan([FEED], [], NOW, callback_base=BASE)
    assert (action.step, action.feed) == (Step.SUBSCRIBE, FEED)
    assert steps([replace(FEED, enabled=False)], []) == []


def test_a_verified_subscription_is_left_alone_then_renewed_then_expires() -> None:
    live = sub()
    assert steps([FEED], [live]) == []
    assert steps([FEED], [live], NOW + timedelta(days=5)) == [Step.RENEW]
    assert steps([FEED], [live], NOW + timedelta(days=7)) == [Step.EXPIRE]
    assert live.pushed(NOW)
    assert not live.pushed(NOW + timedelta(days=7))


def test_requested_is_given_up_when_the_hub_never_confirms_and_failures_are_retried() -> None:
    waiting = sub(state="requested", next_action_at=NOW + timedelta(minutes=10), expires_at=None)
    assert steps([FEED], [waiting]) == []
    assert steps([FEED], [waiting], NOW + timedelta(minutes=10)) == [Step.GIVE_UP]
    for state in ("failed", "denied"):
        retry = sub(state=state, next_action_at=NOW)
        assert steps([FEED], [retry]) == [Step.RETRY]
        assert not retry.pushed(NOW)


@pytest.mark.parametrize(
    "feeds",
    [
        [],  # the feed was removed (or no longer names a hub)
        [replace(FEED, enabled=False)],
        [replace(FEED, hub="https://other-hub.example/")],
        [replace(FEED, topic="https://news.example/other/")],
    ],
    ids=["removed", "disabled", "new-hub", "new-topic"],
)
def test_a_subscription_no_longer_wanted_is_unsubscribed_and_a_new_one_follows(feeds: list[HubFeed]) -> None:
    expected = [Step.UNSUBSCRIBE] + [Step.SUBSCRIBE] * sum(f.enabled for f in feeds)
    assert steps(feeds, [sub()]) == expected
    assert steps(feeds, [sub(state="requested")]) == expected
    # never confirmed by the hub: nothing to unsubscribe, the row is dropped
    assert steps(feeds, [sub(state="failed")])[0] is Step.DROP


def test_a_removed_feeds_subscription_and_a_moved_public_url() -> None:
    assert steps([], [sub(feed_id=None)]) == [Step.UNSUBSCRIBE]
    moved = sub(callback="https://old.example/websub/tok")
    assert steps([FEED], [moved]) == [Step.UNSUBSCRIBE, Step.SUBSCRIBE]


def test_unsubscribing_is_asked_again_then_dropped() -> None:
    leaving = sub(state="unsubscribing", attempts=1, next_action_at=NOW + timedelta(minutes=10))
    assert steps([], [leaving]) == []
    assert steps([], [leaving], NOW + timedelta(minutes=10)) == [Step.UNSUBSCRIBE]
    assert steps([], [replace(leaving, attempts=MAX_UNSUBSCRIBE)], NOW + timedelta(minutes=10)) == [Step.DROP]
    # the feed wants a subscription again meanwhile: a new one, beside the one leaving
    assert steps([FEED], [leaving]) == [Step.SUBSCRIBE]


def test_renewal_and_retry_timing() -> None:
    assert renew_at(NOW, 864_000) == NOW + timedelta(days=7.5)
    assert renew_at(NOW, 1) == NOW + timedelta(seconds=1)
    assert retry_delay(1) == FIRST_RETRY
    assert retry_delay(2) == 2 * FIRST_RETRY
    assert retry_delay(50) == MAX_RETRY
    assert retry_delay(1, denied=True) == DENIED_RETRY


def test_confirms_only_what_was_asked_for() -> None:
    topic = FEED.topic
    assert confirms(sub(), mode="subscribe", topic=topic)
    assert confirms(sub(state="requested"), mode="subscribe", topic=topic)
    assert not confirms(sub(), mode="subscribe", topic=topic + "x")
    assert not confirms(sub(), mode="unsubscribe", topic=topic)  # never asked to leave
    assert not confirms(sub(feed_id=None), mode="subscribe", topic=topic)  # the feed is gone
    assert confirms(sub(state="unsubscribing"), mode="unsubscribe", topic=topic)
    assert not confirms(sub(state="unsubscribing"), mode="subscribe", topic=topic)
    assert not confirms(sub(), mode="denied", topic=topic)
    assert not confirms(None, mode="subscribe", topic=topic)


def test_what_feeds_lists_say_about_push() -> None:
    polled = Feed(1, "https://news.example/feed/", None, True, poll_interval=240)
    assert (feed_mode(polled), reading(polled)) == ("polled", "polled every 4 min")
    pushed = replace(polled, push="pushed", poll_interval=3600)
    assert (feed_mode(pushed), reading(pushed)) == ("pushed", "pushed, polled every 1 h")
    assert push_note(pushed.push, None) is None
    assert push_note(None, None) is None
    assert push_note("requested", None) == "WebSub: waiting for the hub to confirm; polled"
    assert push_note("denied", "denied by the hub: no") == "WebSub denied: denied by the hub: no; polled"
    assert push_note("lapsed", None) == "WebSub lease lapsed; polled"
    assert not replace(polled, push="lapsed").pushed
