"""Pure fetch-scheduling decisions: is a feed due, when to fetch it next (jitter, backoff, server floors).

The ingest service asks these questions and does the I/O; HTTP header values arrive here as strings and
leave as seconds, so this module never sees an HTTP client. How long a feed's own interval is (the fixed
`interval`, or under the adaptive schedule one chosen from the feed's pace) is `pace.py`'s decision.

Rules, in order:
- a healthy feed is fetched again after its interval ± 10% jitter; the jitter is drawn from a generator
  seeded with the feed id and the fetch time, so tests are deterministic and feeds drift apart;
- after the n-th consecutive failure the wait is `interval · 2^n`, capped at `max_backoff` (6 h by
  default) but never shorter than `interval`;
- a server's `Retry-After` and `Cache-Control: max-age` are floors on the wait, capped at
  `RETRY_AFTER_CAP` (24 h) and `MAX_AGE_CAP` (1 h: a news feed cached for a day is still read hourly).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Literal

from bot.core.models import Feed
from bot.core.timeutil import to_epoch

JITTER = 0.10
MAX_BACKOFF = timedelta(hours=6)
RETRY_AFTER_CAP = timedelta(hours=24)
MAX_AGE_CAP = timedelta(hours=1)
MIN_SLEEP = 1.0

_MAX_AGE_RE = re.compile(r"(?:^|[,\s])max-age\s*=\s*\"?(\d{1,10})\"?", re.I)
_NO_CACHE_RE = re.compile(r"(?:^|[,\s])(?:no-cache|no-store)(?:$|[,\s=])", re.I)


@dataclass(frozen=True, slots=True)
class Schedule:
    """How often feeds are read: the base interval (POLL_INTERVAL_SECONDS) and the backoff cap; with the
    adaptive mode, each feed's own interval between `min_interval` and `max_interval` (see pace.py)."""

    interval: timedelta
    max_backoff: timedelta = MAX_BACKOFF
    mode: Literal["adaptive", "fixed"] = "fixed"
    min_interval: timedelta = timedelta(seconds=60)
    max_interval: timedelta = timedelta(hours=1)

    @property
    def adaptive(self) -> bool:
        return self.mode == "adaptive"


def feed_mode(feed: Feed) -> str:
    """How new stories reach the bot from this feed: "pushed" (a WebSub hub confirmed a subscription),
    "pinged" (its site's update pings had it read lately) or "polled"."""
    if feed.pushed:
        return "pushed"
    return "pinged" if feed.pinged else "polled"


def reading(feed: Feed) -> str:
    """The mode and the interval, for /feeds and `newsbot feeds list`: "polled every 4 min", "pushed,
    polled every 1 h" (a pushed feed is still read, rarely), "pinged, polled every 4 min"."""
    mode = feed_mode(feed)
    if not feed.poll_interval:
        return mode
    every = f"every {span_text(feed.poll_interval)}"
    return f"{mode}, polled {every}" if mode != "polled" else f"{mode} {every}"


def span_text(seconds: float) -> str:
    """A wait in words: "45 s", "4 min", "1 h 30 min", "2 d"."""
    whole = round(seconds)
    if whole < 120:
        return f"{whole} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{round(hours / 24)} d"


def is_due(feed: Feed, now: datetime) -> bool:
    """An enabled feed is due once its next fetch time has come (a new feed has none, or epoch 0)."""
    return feed.enabled and (feed.next_fetch_at is None or feed.next_fetch_at <= now)


def jittered(interval: timedelta, feed_id: int, now: datetime) -> timedelta:
    """`interval` scaled by a factor in [0.9, 1.1], the same for the same feed id and time."""
    rng = random.Random(f"{feed_id}:{to_epoch(now)}")  # noqa: S311 - spreading load, not security
    return interval * rng.uniform(1 - JITTER, 1 + JITTER)


def backoff(interval: timedelta, failures: int, cap: timedelta = MAX_BACKOFF) -> timedelta:
    """The wait after `failures` consecutive failures: interval · 2^failures, capped, never below interval."""
    if failures <= 0:
        return interval
    exponent = min(failures, 32)  # 2^32 intervals exceed any cap; keeps the float finite
    return max(interval, min(interval * (1 << exponent), cap))


def next_fetch_at(
    feed_id: int,
    now: datetime,
    schedule: Schedule,
    *,
    failures: int = 0,
    retry_after: float | None = None,
    max_age: float | None = None,
    interval: float | None = None,
) -> datetime:
    """When to fetch the feed next, given its consecutive failures (0 after a success) and server hints;
    `interval` (seconds) is the feed's own, from pace.py, else the schedule's."""
    base = schedule.interval if interval is None else timedelta(seconds=interval)
    wait = jittered(backoff(base, failures, schedule.max_backoff), feed_id, now)
    if retry_after is not None and retry_after > 0:
        wait = max(wait, min(timedelta(seconds=retry_after), RETRY_AFTER_CAP))
    if max_age is not None and max_age > 0:
        wait = max(wait, min(timedelta(seconds=max_age), MAX_AGE_CAP))
    return now + wait


def seconds_until(next_due: datetime | None, now: datetime, poll_interval: float) -> float:
    """How long the ingest loop may sleep: until the next feed is due, at most `poll_interval`."""
    if next_due is None:
        return poll_interval
    return max(MIN_SLEEP, min(poll_interval, (next_due - now).total_seconds()))


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds from a `Retry-After` value (delta-seconds or an HTTP date); None when absent or garbled."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds())


def parse_max_age(cache_control: str | None) -> float | None:
    """`max-age` seconds from a Cache-Control header (we are a private cache, so `s-maxage` is not ours);
    None when absent or when the response says no-cache/no-store."""
    if not cache_control or _NO_CACHE_RE.search(cache_control):
        return None
    match = _MAX_AGE_RE.search(cache_control)
    return float(match.group(1)) if match else None
