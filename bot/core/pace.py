"""Adaptive polling: a feed's publishing pace, and the interval it earns within the fixed schedule's budget.

Pure, like `schedule.py` (which puts jitter, backoff and the servers' floors on top of the interval chosen
here): callers pass `now` and the stored state, and the ingest service stores what comes back.

Pace (`models.Pace`, two numbers a feed). `gap` estimates the mean time between the feed's entries, `last`
is when the newest entry counted appeared. The first read seeds both from the entries' dates: the mean gap
of the newest `WINDOW` dated entries, and the newest date (a date after `now` counts as `now`). After that,
a read that stores k new entries counts them as arriving now, k gaps of (now − last) / k, each weighted
`ALPHA` into the mean and each at most `CLIP` × the mean (a night or a weekend moves it by at most 1.6×).
Arrival times, not dates, from then on: a feed that re-dates its entries on every build does not look busy,
and arrival gaps average out to publishing gaps whatever the poll interval. Entries with fewer than two
distinct dates give no gap, and such a feed is read every POLL_INTERVAL_SECONDS until it shows new
entries. A silence longer than the gap is a gap at least that long, so the pace used is
g = max(gap, now − last): a dead feed drifts to the ceiling, a busy one slows through the night and is
fast again at its first new entry.

Interval. I = clamp(max(k·√g, g / READS_PER_ENTRY), MIN, MAX). √g because, for a given number of requests,
I ∝ √g is what minimises the mean delay of all stories (minimise Σ (I_i / 2) / g_i with Σ 1 / I_i fixed);
g / READS_PER_ENTRY because a quiet feed cannot use more than a few reads per story it publishes; k is the
smallest scale at which all feeds together fit the budget, 0 when these floors alone fit (`scale`). A feed
whose pace is not known gets P = POLL_INTERVAL_SECONDS (MIN if that is longer). A MAX below P is raised
to P, or the budget could not be met.

Budget. The fixed schedule makes n / P requests a second for n enabled feeds (with the same ±10% jitter
as here, so jitter drops out of the comparison). `PollBudget` is a ledger of every enabled feed's stored
interval I_i (a feed not given one yet counts as P), read afresh each cycle, that keeps Σ 1 / I_i ≤ n / P.
It holds when every feed is at P; adding a feed adds 1 / P to both sides (enabling one clears its
interval); a feed gets the interval it asks for only if the others leave room for it, else what room
there is (1 / room), at most the ceiling, which never raises the sum. Backoff, Retry-After and max-age
only lengthen waits, and no feed is read before its (jittered) interval is up, so scheduled reads stay
within the fixed schedule's. One exception, transient: removing (or disabling) a feed read less often
than every P takes 1 / P from the budget but less from the sum, and so does raising P between runs; the
sum is then over until the others are next read, and while over it can only fall (each feed read gets at
most the room left, or the ceiling), so it is back within once each feed has been read. The scale k aims
each feed's ask at its share, so after one round of reads the feeds get what they ask for; reads a ping
asks for outside the schedule keep the feed's interval.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime

from bot.core.models import Feed, Pace
from bot.core.schedule import Schedule

WINDOW = 20  # dated entries the first read takes the mean gap of
ALPHA = 0.2  # weight of each new gap in the mean
CLIP = 4.0  # one new gap counts as at most this many mean gaps
READS_PER_ENTRY = 10  # a feed is read at most this often per entry it publishes
MIN_GAP = 1.0  # seconds: entries stamped together are not infinitely busy


def first_pace(dates: Iterable[datetime | None], now: datetime) -> Pace:
    """The pace from one read's entry dates: the mean gap of the newest WINDOW, and the newest date."""
    known = sorted((min(d, now) for d in dates if d is not None), reverse=True)[:WINDOW]
    if not known:
        return Pace(None, now)  # no dates: count arrivals from now on
    span = (known[0] - known[-1]).total_seconds()
    return Pace(max(MIN_GAP, span / (len(known) - 1)) if span > 0 else None, known[0])


def observe(pace: Pace, now: datetime, *, dates: Sequence[datetime | None] | None, new: int) -> Pace:
    """The pace after a read that stored `new` new entries; `dates` are all its entries' dates (None when
    the read carried no entries: a 304)."""
    if pace.last is None:
        return pace if dates is None else first_pace(dates, now)
    if new <= 0:
        return pace
    observed = max(0.0, (now - pace.last).total_seconds()) / new
    if pace.gap is None:
        return Pace(max(MIN_GAP, observed), now)
    keep = (1 - ALPHA) ** new
    gap = keep * pace.gap + (1 - keep) * min(observed, CLIP * pace.gap)
    return Pace(max(MIN_GAP, gap), now)


def effective_gap(pace: Pace, now: datetime) -> float | None:
    """The gap the schedule goes by: the mean, or the silence since the newest entry if that is longer."""
    if pace.gap is None or pace.last is None:
        return None
    return max(pace.gap, (now - pace.last).total_seconds())


def scale(feeds: Sequence[tuple[float, float]], budget: float, ceiling: float) -> float:
    """The smallest k ≥ 0 with Σ 1 / min(ceiling, max(floor, k·s)) ≤ budget over (floor, s) pairs
    (s > 0, 0 < floor ≤ ceiling); 0 when the floors fit. Exact: a sweep over the points where a feed
    leaves its floor or reaches the ceiling, between which the sum is a + b / k."""
    fixed = sum(1 / floor for floor, _ in feeds)  # the feeds at a bound, each 1 / bound
    if fixed <= budget:
        return 0.0
    events = sorted(
        [(floor / s, 0, floor, s) for floor, s in feeds] + [(ceiling / s, 1, floor, s) for floor, s in feeds]
    )
    harmonic = 0.0  # Σ 1 / s of the feeds between their bounds
    start = 0.0
    for point, kind, floor, s in events:
        if fixed + harmonic / point <= budget:
            if harmonic <= 0:
                return start
            return max(start, harmonic / (budget - fixed)) * (1 + 1e-9)  # rounding stays on the safe side
        if kind == 0:
            fixed -= 1 / floor
            harmonic += 1 / s
        else:
            harmonic -= 1 / s
            fixed += 1 / ceiling
        start = point
    return start


class PollBudget:
    """One cycle's ledger of every enabled feed's interval; hands out new ones within the budget."""

    def __init__(self, schedule: Schedule, feeds: Iterable[Feed], now: datetime) -> None:
        self.base = schedule.interval.total_seconds()
        self.floor = schedule.min_interval.total_seconds()
        self.ceiling = max(schedule.max_interval.total_seconds(), self.base, self.floor)
        self.unknown = min(max(self.base, self.floor), self.ceiling)  # a feed whose pace is not known
        enabled = [f for f in feeds if f.enabled]
        self._intervals = {f.id: standing_interval(f, schedule) for f in enabled}
        self.budget = len(enabled) / self.base
        self.spent = sum(1 / i for i in self._intervals.values())
        gaps = [effective_gap(f.pace, now) for f in enabled]
        known = [g for g in gaps if g is not None]
        share = self.budget - (len(gaps) - len(known)) / self.unknown
        self.scale = scale([(self._floor_for(g), math.sqrt(g)) for g in known], share, self.ceiling)

    def _floor_for(self, gap: float) -> float:
        return min(self.ceiling, max(self.floor, gap / READS_PER_ENTRY))

    def wanted(self, pace: Pace, now: datetime) -> float:
        """The interval the feed's pace asks for at this cycle's scale."""
        gap = effective_gap(pace, now)
        if gap is None:
            return self.unknown
        return min(self.ceiling, max(self._floor_for(gap), self.scale * math.sqrt(gap)))

    def interval(self, feed_id: int, pace: Pace, now: datetime) -> float:
        """The feed's next interval: what its pace asks for, longer when the others leave less room."""
        wanted = self.wanted(pace, now)
        current = self._intervals.get(feed_id)
        if current is None:  # added after the ledger was read: it brings its own share
            current = self.base
            self.budget += 1 / self.base
            self.spent += 1 / self.base
        room = self.budget - (self.spent - 1 / current)  # what the others leave
        chosen = wanted
        if room * wanted < 1 - 1e-12:  # no room for it (beyond rounding): what there is, or the ceiling
            chosen = min(self.ceiling, 1 / room) if room > 0 else self.ceiling
        self.spent += 1 / chosen - 1 / current
        self._intervals[feed_id] = chosen
        return chosen


def standing_interval(feed: Feed, schedule: Schedule) -> float:
    """The feed's interval as it stands (no new decision): the fixed one, or the one last chosen for it."""
    base = schedule.interval.total_seconds()
    if not schedule.adaptive or feed.poll_interval is None or feed.poll_interval <= 0:
        return base
    return feed.poll_interval
