"""Fetch scheduling: due feeds, deterministic jitter, capped exponential backoff, server floors, headers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.models import Feed
from bot.core.schedule import (
    MAX_AGE_CAP,
    MAX_BACKOFF,
    RETRY_AFTER_CAP,
    Schedule,
    backoff,
    feed_mode,
    is_due,
    jittered,
    next_fetch_at,
    parse_max_age,
    parse_retry_after,
    reading,
    seconds_until,
    span_text,
)

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
TWO_MIN = timedelta(minutes=2)


def test_is_due() -> None:
    assert is_due(Feed(1, "http://x/f", None, True, next_fetch_at=None), NOW)
    assert is_due(Feed(1, "http://x/f", None, True, next_fetch_at=NOW), NOW)
    assert not is_due(Feed(1, "http://x/f", None, True, next_fetch_at=NOW + timedelta(seconds=1)), NOW)
    assert not is_due(Feed(1, "http://x/f", None, False, next_fetch_at=None), NOW)


def test_jitter_is_within_ten_percent_and_deterministic() -> None:
    waits = [jittered(TWO_MIN, feed_id, NOW) for feed_id in range(200)]
    assert all(TWO_MIN * 0.9 <= w <= TWO_MIN * 1.1 for w in waits)
    assert waits == [jittered(TWO_MIN, feed_id, NOW) for feed_id in range(200)]
    assert len(set(waits)) > 150  # feeds spread out instead of all firing together
    assert min(waits) < TWO_MIN * 0.95
    assert max(waits) > TWO_MIN * 1.05
    assert jittered(TWO_MIN, 7, NOW) != jittered(TWO_MIN, 7, NOW + timedelta(minutes=2))


def test_backoff_doubles_and_is_capped() -> None:
    assert backoff(TWO_MIN, 0) == TWO_MIN
    assert backoff(TWO_MIN, 1) == 2 * TWO_MIN
    assert backoff(TWO_MIN, 3) == 8 * TWO_MIN
    assert backoff(TWO_MIN, 20) == MAX_BACKOFF
    assert backoff(TWO_MIN, 10_000) == MAX_BACKOFF
    # an interval longer than the cap is never shortened by failing
    assert backoff(timedelta(hours=12), 2) == timedelta(hours=12)


def test_next_fetch_after_success_and_failures() -> None:
    schedule = Schedule(interval=TWO_MIN)
    ok = next_fetch_at(5, NOW, schedule) - NOW
    assert TWO_MIN * 0.9 <= ok <= TWO_MIN * 1.1
    failed = next_fetch_at(5, NOW, schedule, failures=3) - NOW
    assert 8 * TWO_MIN * 0.9 <= failed <= 8 * TWO_MIN * 1.1
    capped = next_fetch_at(5, NOW, Schedule(interval=TWO_MIN, max_backoff=timedelta(minutes=10)), failures=9)
    assert timedelta(minutes=9) <= capped - NOW <= timedelta(minutes=11)


def test_retry_after_and_max_age_are_floors_with_caps() -> None:
    schedule = Schedule(interval=TWO_MIN)
    assert next_fetch_at(1, NOW, schedule, retry_after=900) == NOW + timedelta(seconds=900)
    assert next_fetch_at(1, NOW, schedule, retry_after=10**9) == NOW + RETRY_AFTER_CAP
    assert next_fetch_at(1, NOW, schedule, max_age=1800) == NOW + timedelta(seconds=1800)
    assert next_fetch_at(1, NOW, schedule, max_age=86_400) == NOW + MAX_AGE_CAP
    # a short hint never makes us fetch sooner than the interval
    short = next_fetch_at(1, NOW, schedule, max_age=5, retry_after=1) - NOW
    assert short >= TWO_MIN * 0.9


def test_a_feeds_own_interval_replaces_the_fixed_one() -> None:
    schedule = Schedule(interval=TWO_MIN, mode="adaptive")
    assert next_fetch_at(5, NOW, schedule, interval=None) == next_fetch_at(5, NOW, Schedule(interval=TWO_MIN))
    own = next_fetch_at(5, NOW, schedule, interval=60) - NOW
    assert timedelta(seconds=54) <= own <= timedelta(seconds=66)  # jitter stays, ±10%
    assert own == jittered(timedelta(seconds=60), 5, NOW)
    # backoff doubles the feed's own interval
    failed = next_fetch_at(5, NOW, schedule, interval=60, failures=2) - NOW
    assert timedelta(seconds=216) <= failed <= timedelta(seconds=264)


def test_floors_apply_on_top_of_a_feeds_own_interval() -> None:
    schedule = Schedule(interval=TWO_MIN, mode="adaptive")
    assert next_fetch_at(1, NOW, schedule, interval=60, max_age=900) == NOW + timedelta(seconds=900)
    assert next_fetch_at(1, NOW, schedule, interval=60, retry_after=600) == NOW + timedelta(seconds=600)
    assert next_fetch_at(1, NOW, schedule, interval=600, max_age=86_400) == NOW + MAX_AGE_CAP
    quiet = next_fetch_at(1, NOW, schedule, interval=3600, max_age=60) - NOW
    assert quiet >= timedelta(seconds=3240)  # a short max-age never makes a quiet feed read sooner


def test_mode_and_interval_for_people() -> None:
    fresh = Feed(1, "http://x/f", None, True)
    assert feed_mode(fresh) == "polled"
    assert reading(fresh) == "polled"  # no interval chosen yet
    assert reading(Feed(1, "http://x/f", None, True, poll_interval=61.3)) == "polled every 61 s"
    assert reading(Feed(1, "http://x/f", None, True, poll_interval=120)) == "polled every 2 min"
    pinged = Feed(1, "http://x/f", None, True, poll_interval=240, pinged=True)
    assert (feed_mode(pinged), reading(pinged)) == ("pinged", "pinged, polled every 4 min")
    both = Feed(1, "http://x/f", None, True, poll_interval=3600, pinged=True, push="pushed")
    assert reading(both) == "pushed, polled every 1 h"  # a push outranks a ping
    assert [span_text(s) for s in (45, 119.4, 240, 3600, 5400, 7200, 3 * 86_400)] == [
        "45 s",
        "119 s",
        "4 min",
        "1 h",
        "1 h 30 min",
        "2 h",
        "3 d",
    ]


def test_seconds_until() -> None:
    assert seconds_until(None, NOW, 120) == 120
    assert seconds_until(NOW + timedelta(seconds=30), NOW, 120) == 30
    assert seconds_until(NOW + timedelta(hours=1), NOW, 120) == 120
    assert seconds_until(NOW - timedelta(hours=1), NOW, 120) == 1.0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("120", 120.0),
        (" 5 ", 5.0),
        ("Wed, 01 May 2024 12:10:00 GMT", 600.0),
        ("Wed, 01 May 2024 11:00:00 GMT", 0.0),  # a date in the past: retry now
        ("soon", None),
        ("-5", None),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, NOW) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("max-age=300", 300.0),
        ("public, max-age=60, must-revalidate", 60.0),
        ('max-age="90"', 90.0),
        ("s-maxage=600", None),
        ("public, s-maxage=600, max-age=30", 30.0),
        ("no-cache, max-age=300", None),
        ("no-store", None),
        ("private", None),
    ],
)
def test_parse_max_age(value: str | None, expected: float | None) -> None:
    assert parse_max_age(value) == expected
