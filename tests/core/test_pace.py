"""Adaptive polling: pace from entry dates and arrivals, intervals from pace, and the request budget.

The budget tests check the ledger's invariant at every decision with many feeds of mixed pace, and
simulate hours of reading (publishing as a Poisson process, real jitter) against the fixed schedule.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.models import Feed, Pace
from bot.core.pace import (
    READS_PER_ENTRY,
    WINDOW,
    PollBudget,
    effective_gap,
    first_pace,
    observe,
    scale,
    standing_interval,
)
from bot.core.schedule import Schedule, next_fetch_at

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
P = 120.0
ADAPTIVE = Schedule(
    interval=timedelta(seconds=P),
    mode="adaptive",
    min_interval=timedelta(seconds=60),
    max_interval=timedelta(hours=1),
)
FIXED = Schedule(interval=timedelta(seconds=P))


def dated(gap: float, count: int = 20, newest_ago: float = 0.0) -> list[datetime | None]:
    """Entry dates `gap` seconds apart, newest first, the newest `newest_ago` seconds before NOW."""
    return [NOW - timedelta(seconds=newest_ago + i * gap) for i in range(count)]


def feed(feed_id: int, gap: float | None, *, silent_for: float = 0.0, interval: float | None = None) -> Feed:
    last = NOW - timedelta(seconds=silent_for) if gap is not None else None
    return Feed(
        feed_id, f"https://f{feed_id}.example/feed", None, True, pace=Pace(gap, last), poll_interval=interval
    )


# -- pace ---------------------------------------------------------------------------------------------


def test_first_read_takes_the_mean_gap_of_the_newest_dates() -> None:
    assert first_pace(dated(300), NOW) == Pace(300.0, NOW)
    older = dated(300) + dated(86_400, newest_ago=30 * 86_400)  # an archive further down: not in the window
    assert first_pace(older, NOW).gap == 300.0
    assert len(dated(300)) == WINDOW
    shuffled = dated(600, newest_ago=60)
    random.Random(1).shuffle(shuffled)
    assert first_pace([*shuffled, None], NOW) == Pace(600.0, NOW - timedelta(seconds=60))
    # dates in the future count as now
    assert first_pace([NOW + timedelta(hours=5), NOW - timedelta(hours=1)], NOW) == Pace(3600.0, NOW)


def test_first_read_without_two_dates_has_no_gap() -> None:
    assert first_pace([], NOW) == Pace(None, NOW)  # no dates: arrivals are counted from now
    assert first_pace([None, None], NOW) == Pace(None, NOW)
    one = NOW - timedelta(hours=2)
    assert first_pace([one], NOW) == Pace(None, one)
    assert first_pace([one, one, one], NOW) == Pace(None, one)  # every entry stamped alike


def test_new_entries_after_the_first_read_are_arrivals() -> None:
    start = Pace(600.0, NOW)
    assert observe(start, NOW + timedelta(minutes=5), dates=None, new=0) == start  # a 304
    assert observe(start, NOW + timedelta(minutes=5), dates=dated(1), new=0) == start  # nothing new
    # one entry after 300 s: the mean moves a fifth of the way
    one = observe(start, NOW + timedelta(seconds=300), dates=dated(1), new=1)
    assert one == Pace(pytest.approx(540.0), NOW + timedelta(seconds=300))
    # three entries in 300 s: three gaps of 100 s
    three = observe(start, NOW + timedelta(seconds=300), dates=None, new=3)
    assert three.gap == pytest.approx(0.512 * 600 + 0.488 * 100)
    # a long silence moves the mean at most to 1.6x (one gap counts as at most 4 means)
    night = observe(start, NOW + timedelta(hours=10), dates=None, new=1)
    assert night.gap == pytest.approx(0.8 * 600 + 0.2 * 2400)
    # dates are not read after the first read: a feed re-dating its entries does not look busy
    redated = observe(start, NOW + timedelta(seconds=600), dates=dated(1, newest_ago=-600), new=0)
    assert redated == start


def test_dateless_feed_learns_its_pace_from_arrivals() -> None:
    unknown = observe(Pace(), NOW, dates=[None, None], new=2)
    assert unknown == Pace(None, NOW)
    assert observe(unknown, NOW + timedelta(minutes=30), dates=None, new=0) == unknown
    learnt = observe(unknown, NOW + timedelta(minutes=30), dates=None, new=2)
    assert learnt == Pace(900.0, NOW + timedelta(minutes=30))
    assert observe(Pace(), NOW, dates=None, new=0) == Pace()  # a 304 before any read: nothing known


def test_silence_longer_than_the_gap_counts() -> None:
    pace = Pace(600.0, NOW)
    assert effective_gap(pace, NOW + timedelta(seconds=100)) == 600.0
    assert effective_gap(pace, NOW + timedelta(hours=3)) == 3 * 3600.0
    assert effective_gap(Pace(None, NOW), NOW) is None
    assert effective_gap(Pace(), NOW) is None


# -- intervals ----------------------------------------------------------------------------------------


def test_busy_feed_shorter_quiet_feed_longer() -> None:
    feeds = [feed(1, 300.0), feed(2, 3600.0), feed(3, 6 * 3600.0), feed(4, None)]
    budget = PollBudget(ADAPTIVE, feeds, NOW)
    busy, hourly, quiet, unknown = (budget.wanted(f.pace, NOW) for f in feeds)
    assert 60 <= busy < P < hourly < quiet <= 3600
    assert unknown == P  # pace not known: the fixed interval
    assert hourly >= 3600 / READS_PER_ENTRY


def test_intervals_are_clamped_to_min_and_max() -> None:
    feeds = [feed(1, 5.0), feed(2, 300.0, silent_for=90 * 86_400), feed(3, 600.0)]
    budget = PollBudget(ADAPTIVE, feeds, NOW)
    assert budget.wanted(feeds[0].pace, NOW) == 60.0  # a feed publishing every 5 s: MIN
    assert budget.wanted(feeds[1].pace, NOW) == 3600.0  # silent for three months: MAX
    assert budget.wanted(Pace(10.0 * 86_400, NOW), NOW) == 3600.0
    # a MAX below POLL_INTERVAL_SECONDS is raised to it, or the budget could not be met
    low_max = replace(ADAPTIVE, interval=timedelta(hours=2))
    assert PollBudget(low_max, feeds, NOW).wanted(feeds[1].pace, NOW) == 7200.0


def test_the_ledger_gives_what_the_others_leave() -> None:
    feeds = [feed(1, 300.0), feed(2, 86_400.0)]  # neither has an interval yet: both count as P
    budget = PollBudget(ADAPTIVE, feeds, NOW)
    assert budget.wanted(feeds[0].pace, NOW) == pytest.approx(1 / (2 / P - 1 / 3600))
    assert budget.interval(1, feeds[0].pace, NOW) == pytest.approx(P)  # the quiet feed still holds its P
    assert budget.interval(2, feeds[1].pace, NOW) == 3600.0
    assert budget.interval(1, feeds[0].pace, NOW) == pytest.approx(1 / (2 / P - 1 / 3600))  # now it may
    # a feed added after the ledger was read brings its own share
    assert budget.interval(9, Pace(), NOW) == P
    assert budget.spent <= budget.budget * (1 + 1e-12)


def test_scale_is_the_smallest_that_fits() -> None:
    rng = random.Random(5)
    for _ in range(200):
        pairs = [(rng.uniform(10, 400), math.sqrt(rng.uniform(5, 1e6))) for _ in range(rng.randint(1, 60))]
        ceiling = rng.uniform(400, 5000)
        budget = rng.uniform(len(pairs) / ceiling, 1.5 * sum(1 / f for f, _ in pairs))

        def total(k: float, pairs: Sequence[tuple[float, float]] = pairs, ceiling: float = ceiling) -> float:
            return sum(1 / min(ceiling, max(f, k * s)) for f, s in pairs)

        k = scale(pairs, budget, ceiling)
        assert total(k) <= budget * (1 + 1e-9)
        if k > 0:
            assert total(k * (1 - 1e-6)) > budget  # nothing smaller fits
        else:
            assert total(0) <= budget


def test_the_budget_holds_at_every_decision_with_many_feeds() -> None:
    rng = random.Random(3)
    gaps: list[float | None] = [None] * 50
    gaps += [rng.choice([30.0, 120.0, 600.0]) for _ in range(300)]  # busy
    gaps += [10 ** rng.uniform(3, 6.5) for _ in range(650)]  # an hour to a month
    feeds = {i: feed(i, gap, silent_for=rng.uniform(0, 2 * (gap or 1))) for i, gap in enumerate(gaps)}
    for round_ in range(6):
        now = NOW + timedelta(minutes=10 * round_)
        budget = PollBudget(ADAPTIVE, feeds.values(), now)
        assert budget.budget == pytest.approx(len(feeds) / P)
        order = list(feeds)
        rng.shuffle(order)
        for feed_id in order[: rng.randint(100, len(order))]:  # a cycle reads some of them
            current = feeds[feed_id]
            pace = current.pace
            if pace.gap is not None and rng.random() < 0.3:
                pace = observe(pace, now, dates=None, new=rng.randint(1, 5))
            chosen = budget.interval(feed_id, pace, now)
            assert 60 <= chosen <= 3600
            assert budget.spent <= budget.budget * (1 + 1e-9)
            feeds[feed_id] = replace(current, pace=pace, poll_interval=chosen)
        stored = sum(1 / (f.poll_interval or P) for f in feeds.values())
        assert stored <= len(feeds) / P * (1 + 1e-9)  # what the next cycle's ledger starts from
    intervals = [f.poll_interval for f in feeds.values() if f.poll_interval]
    assert min(intervals) == 60
    assert max(intervals) == 3600
    # and what each asks for grows with its pace (the gap, or the silence if longer)
    final = PollBudget(ADAPTIVE, feeds.values(), now)
    asks = sorted(
        (effective_gap(f.pace, now) or 0, final.wanted(f.pace, now)) for f in feeds.values() if f.pace.gap
    )
    assert all(a[1] <= b[1] for a, b in itertools.pairwise(asks))


def test_an_over_spent_ledger_only_shrinks() -> None:
    # every feed at MIN: twice the budget (POLL_INTERVAL_SECONDS was raised since they were chosen)
    feeds = [feed(i, 300.0, interval=60.0) for i in range(10)]
    budget = PollBudget(ADAPTIVE, feeds, NOW)
    assert budget.spent == pytest.approx(2 * budget.budget)
    last = budget.spent
    for f in feeds:
        assert budget.interval(f.id, f.pace, NOW) >= 60.0
        assert budget.spent <= last
        last = budget.spent
    assert budget.spent <= budget.budget * (1 + 1e-9)


def test_fixed_schedule_keeps_the_fixed_interval() -> None:
    assert standing_interval(feed(1, 300.0, interval=60.0), FIXED) == P
    assert standing_interval(feed(1, 300.0, interval=60.0), ADAPTIVE) == 60.0
    assert standing_interval(feed(1, 300.0), ADAPTIVE) == P
    assert not FIXED.adaptive
    assert ADAPTIVE.adaptive


# -- hours of reading -----------------------------------------------------------------------------------


def simulate(
    schedule: Schedule, gaps: Sequence[float | None], hours: float, seed: int = 1
) -> tuple[int, list[float]]:
    """Read feeds publishing (Poisson) every `gaps` seconds on average, for `hours`; each has 20 entries of
    history. Returns the number of reads and, per feed, its stories' mean delay (publication to read).
    The ledger is rebuilt every simulated minute, as the ingest loop rebuilds it every cycle."""
    rng = random.Random(seed)
    end = hours * 3600
    published: list[list[float]] = []
    for gap in gaps:
        times, t = [], rng.expovariate(1 / gap) if gap else end + 1
        while t < end:
            times.append(t)
            t += rng.expovariate(1 / gap) if gap else end
        published.append(times)
    history = [dated(gap or 30 * 86_400, newest_ago=(gap or 60 * 86_400) / 2) for gap in gaps]
    feeds = {i: Feed(i, f"https://f{i}.example/", None, True) for i in range(len(gaps))}
    due = [(0.0, i) for i in feeds]
    read_up_to = [0] * len(gaps)
    delays: list[list[float]] = [[] for _ in gaps]
    reads, budget, built = 0, None, -math.inf
    while due:
        t, i = heapq.heappop(due)
        if t > end:
            break
        now = NOW + timedelta(seconds=t)
        if schedule.adaptive and t - built >= 60:
            budget, built = PollBudget(schedule, feeds.values(), now), t
        first = read_up_to[i]
        while read_up_to[i] < len(published[i]) and published[i][read_up_to[i]] <= t:
            read_up_to[i] += 1
        delays[i].extend(t - p for p in published[i][first : read_up_to[i]])
        current = feeds[i]
        dates = history[i] if current.pace.last is None else None
        pace = observe(current.pace, now, dates=dates, new=read_up_to[i] - first)
        interval = budget.interval(i, pace, now) if budget else standing_interval(current, schedule)
        if budget:
            assert budget.spent <= budget.budget * (1 + 1e-9)
        feeds[i] = replace(current, pace=pace, poll_interval=interval)
        heapq.heappush(due, ((next_fetch_at(i, now, schedule, interval=interval) - NOW).total_seconds(), i))
        reads += 1
    return reads, [sum(d) / len(d) if d else math.nan for d in delays]


def test_busy_and_quiet_feeds_cost_fewer_requests_than_the_fixed_schedule() -> None:
    gaps: list[float | None] = [240.0] * 20 + [3600.0] * 30 + [8 * 3600.0] * 20 + [None] * 10
    fixed_reads, fixed_delay = simulate(FIXED, gaps, hours=6)
    reads, delay = simulate(ADAPTIVE, gaps, hours=6)
    assert reads < 0.7 * fixed_reads
    busy_fixed = sum(fixed_delay[:20]) / 20
    busy = sum(delay[:20]) / 20
    assert busy_fixed == pytest.approx(P / 2, rel=0.2)
    assert busy < 0.6 * busy_fixed  # read every MIN instead of every P


def test_when_every_read_counts_the_budget_is_spent_not_exceeded() -> None:
    gaps: list[float | None] = [120.0] * 40 + [1800.0] * 40  # the floors alone would exceed the budget
    fixed_reads, fixed_delay = simulate(FIXED, gaps, hours=4)
    reads, delay = simulate(ADAPTIVE, gaps, hours=4)
    assert 0.95 * fixed_reads <= reads <= fixed_reads
    mean = sum(delay) / len(delay)
    weighted = sum(d / g for d, g in zip(delay, gaps, strict=True) if g) / sum(1 / g for g in gaps if g)
    weighted_fixed = sum(d / g for d, g in zip(fixed_delay, gaps, strict=True) if g) / sum(
        1 / g for g in gaps if g
    )
    assert weighted < weighted_fixed  # the mean delay per story is lower for the same requests
    assert mean > 0
