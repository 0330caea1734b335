"""Times of day in the newsroom's zone: parsing, quiet windows across midnight and DST, digest slots."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from bot.core.daytime import due_slot, holding, load_zone, next_slot, notify, parse_quiet_hours, parse_times

KL = load_zone("Asia/Kuala_Lumpur")
LONDON = load_zone("Europe/London")


def test_parsing_and_one_line_errors() -> None:
    assert parse_times(" 18:00, 08:00,08:00 ") == (time(8), time(18))
    assert parse_times("") == ()
    for bad in ("8am", "24:00", "12:60", "08:00;18:00"):
        with pytest.raises(ValueError, match="is not a time of day"):
            parse_times(bad)
    window = parse_quiet_hours("23:00-07:00")
    assert str(window) == "23:00-07:00"
    for bad in ("23:00", "23:00-23:00", "late-early"):
        with pytest.raises(ValueError, match=r"window like|same time|time of day"):
            parse_quiet_hours(bad)
    with pytest.raises(ValueError, match="unknown time zone"):
        load_zone("Mars/Olympus")
    with pytest.raises(ValueError, match="not an IANA time zone"):
        load_zone("../etc/passwd")


def test_quiet_window_wraps_midnight_in_the_newsrooms_zone() -> None:
    window = parse_quiet_hours("23:00-07:00")
    assert window is not None
    inside = datetime(2026, 12, 3, 16, 30, tzinfo=UTC)  # 00:30 in Kuala Lumpur
    outside = datetime(2026, 12, 3, 1, 0, tzinfo=UTC)  # 09:00 there
    assert window.contains(inside, KL)
    assert not window.contains(outside, KL)
    assert window.ends_after(inside, KL) == datetime(2026, 12, 3, 23, 0, tzinfo=UTC)
    assert holding(inside, window, KL, "hold") == datetime(2026, 12, 3, 23, 0, tzinfo=UTC)
    assert holding(inside, window, KL, "silent") is None
    assert holding(outside, window, KL, "hold") is None


def test_notify_rules() -> None:
    window = parse_quiet_hours("23:00-07:00")
    night = datetime(2026, 12, 3, 23, 30, tzinfo=UTC)
    day = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    common = {"window": window, "zone": UTC}
    assert notify(breaking=True, silent=False, now=night, default_silent=True, **common)
    assert not notify(breaking=False, silent=False, now=night, default_silent=False, **common)
    assert not notify(breaking=False, silent=True, now=day, default_silent=False, **common)
    assert notify(breaking=False, silent=False, now=day, default_silent=False, **common)
    assert not notify(breaking=False, silent=False, now=day, default_silent=True, **common)


def test_slots_across_days_and_dst() -> None:
    times = parse_times("08:00,18:00")
    now = datetime(2026, 12, 3, 7, 0, tzinfo=UTC)  # 15:00 in KL
    slot = due_slot(now, times, KL)
    assert slot is not None
    assert slot.key == "2026-12-03T08:00"
    assert slot.when == datetime(2026, 12, 3, 0, 0, tzinfo=UTC)
    upcoming = next_slot(now, times, KL)
    assert upcoming is not None
    assert upcoming.key == "2026-12-03T18:00"
    early = datetime(2026, 12, 2, 23, 0, tzinfo=UTC)  # 07:00 in KL: yesterday's evening slot is latest
    latest = due_slot(early, times, KL)
    assert latest is not None
    assert latest.key == "2026-12-02T18:00"
    # London's clocks go back on 25 October 2026: 08:00 local is 08:00 UTC after, 07:00 UTC before
    before = due_slot(datetime(2026, 10, 24, 9, 0, tzinfo=UTC), times, LONDON)
    after = due_slot(datetime(2026, 10, 26, 9, 0, tzinfo=UTC), times, LONDON)
    assert before is not None
    assert after is not None
    assert (before.when.hour, after.when.hour) == (7, 8)
    assert due_slot(now, (), KL) is None
