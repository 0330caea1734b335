"""Who rings and who waits: breaking news, an editor's "Post silently", QUIET_HOURS (silent or hold) and
DISABLE_NOTIFICATION, across midnight and a daylight-saving change, with `now` passed in."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.core.daytime import QuietWindow, holding, load_zone, notify, parse_quiet_hours

LONDON = load_zone("Europe/London")  # clocks go back on 25 October 2026 (BST -> GMT) at 02:00 local
NIGHT = parse_quiet_hours("23:00-07:00")
DAY = parse_quiet_hours("09:00-17:00")


def window(text: str) -> QuietWindow:
    parsed = parse_quiet_hours(text)
    assert parsed is not None
    return parsed


def rings(*, breaking: bool = False, silent: bool = False, now: datetime, disable: bool = False) -> bool:
    return notify(
        breaking=breaking, silent=silent, now=now, window=NIGHT, zone=LONDON, default_silent=disable
    )


@pytest.mark.parametrize(
    ("utc", "inside"),
    [
        (datetime(2026, 7, 1, 21, 59, tzinfo=UTC), False),  # 22:59 BST
        (datetime(2026, 7, 1, 22, 0, tzinfo=UTC), True),  # 23:00 BST: the window starts
        (datetime(2026, 7, 1, 23, 30, tzinfo=UTC), True),  # 00:30 BST, after midnight
        (datetime(2026, 7, 2, 5, 59, tzinfo=UTC), True),  # 06:59 BST
        (datetime(2026, 7, 2, 6, 0, tzinfo=UTC), False),  # 07:00 BST: the window has ended
        (datetime(2026, 12, 1, 22, 30, tzinfo=UTC), False),  # 22:30 GMT in winter
        (datetime(2026, 12, 1, 23, 0, tzinfo=UTC), True),  # 23:00 GMT
        (datetime(2026, 12, 2, 6, 59, tzinfo=UTC), True),
        (datetime(2026, 12, 2, 7, 0, tzinfo=UTC), False),
    ],
)
def test_the_window_wraps_midnight_in_local_time_summer_and_winter(utc: datetime, inside: bool) -> None:
    assert window("23:00-07:00").contains(utc, LONDON) is inside
    assert rings(now=utc) is not inside


def test_the_night_the_clocks_go_back_ends_at_seven_local() -> None:
    # 24->25 October 2026: 23:00 BST is 22:00 UTC; 07:00 GMT is 07:00 UTC: a nine-hour night.
    start = datetime(2026, 10, 24, 22, 0, tzinfo=UTC)
    assert window("23:00-07:00").contains(start, LONDON)
    assert window("23:00-07:00").ends_after(start, LONDON) == datetime(2026, 10, 25, 7, 0, tzinfo=UTC)
    assert holding(start, NIGHT, LONDON, "hold") == datetime(2026, 10, 25, 7, 0, tzinfo=UTC)
    assert window("23:00-07:00").contains(datetime(2026, 10, 25, 6, 30, tzinfo=UTC), LONDON)  # 06:30 GMT
    assert not window("23:00-07:00").contains(datetime(2026, 10, 25, 7, 0, tzinfo=UTC), LONDON)
    # and in spring (29 March 2026, GMT -> BST): 07:00 BST is 06:00 UTC
    spring = datetime(2026, 3, 28, 23, 30, tzinfo=UTC)
    assert holding(spring, NIGHT, LONDON, "hold") == datetime(2026, 3, 29, 6, 0, tzinfo=UTC)


def test_breaking_always_rings() -> None:
    night = datetime(2026, 7, 1, 23, 30, tzinfo=UTC)
    day = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    for now in (night, day):
        for disable in (False, True):
            assert rings(breaking=True, now=now, disable=disable)
            assert rings(breaking=True, silent=True, now=now, disable=disable)  # breaking wins over silent


def test_silent_quiet_hours_and_disable_notification() -> None:
    night = datetime(2026, 7, 1, 23, 30, tzinfo=UTC)
    day = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    assert not rings(silent=True, now=day)  # an editor's "Post silently"
    assert not rings(now=night)  # quiet hours hush
    assert rings(now=day)
    assert not rings(now=day, disable=True)  # DISABLE_NOTIFICATION outside quiet hours
    assert notify(breaking=False, silent=False, now=night, window=None, zone=LONDON, default_silent=False)


def test_hold_only_in_hold_mode_and_only_inside_the_window() -> None:
    inside = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)  # 11:00 BST
    outside = datetime(2026, 7, 1, 16, 0, tzinfo=UTC)  # 17:00 BST: the window [09:00, 17:00) is over
    assert holding(inside, DAY, LONDON, "hold") == datetime(2026, 7, 1, 16, 0, tzinfo=UTC)
    assert holding(outside, DAY, LONDON, "hold") is None
    assert holding(inside, DAY, LONDON, "silent") is None
    assert holding(inside, None, LONDON, "hold") is None
