"""Times of day in the newsroom's time zone: parsing DIGEST_TIMES, QUIET_HOURS and TIMEZONE, and the
pure questions asked of them (is this instant inside the quiet window? which digest slot is due?).

Everything takes `now` (an aware datetime) as an argument; what to do about the answers is the
services'. Zones come from zoneinfo (the system's database, else the `tzdata` package).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "QuietWindow",
    "Slot",
    "due_slot",
    "holding",
    "load_zone",
    "next_slot",
    "notify",
    "parse_quiet_hours",
    "parse_times",
]

_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def _parse_hhmm(text: str) -> time:
    match = _HHMM.match(text.strip())
    if match is None:
        raise ValueError(f"{text.strip()!r} is not a time of day like 08:00 or 18:30")
    return time(int(match.group(1)), int(match.group(2)))


def load_zone(name: str) -> ZoneInfo:
    """An IANA zone such as Europe/London; ValueError with a one-line reason otherwise."""
    name = name.strip()
    if not name or name.startswith(("/", ".")) or ".." in name:
        raise ValueError(f"{name!r} is not an IANA time zone name such as Europe/London")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (use an IANA name such as Asia/Kuala_Lumpur)") from None


def parse_times(text: str) -> tuple[time, ...]:
    """ "08:00,18:00" -> sorted distinct times of day; "" -> (). ValueError names the bad part."""
    parts = [p for p in (s.strip() for s in text.split(",")) if p]
    return tuple(sorted({_parse_hhmm(p) for p in parts}))


@dataclass(frozen=True, slots=True)
class QuietWindow:
    """A daily window [start, end) of local time; it may wrap past midnight (23:00-07:00)."""

    start: time
    end: time

    def contains(self, now: datetime, zone: tzinfo) -> bool:
        local = now.astimezone(zone).time().replace(tzinfo=None)
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def ends_after(self, now: datetime, zone: tzinfo) -> datetime:
        """The next instant the window ends (UTC), seen from `now` (which may be outside it)."""
        local = now.astimezone(zone)
        end = datetime.combine(local.date(), self.end, tzinfo=zone)
        if end <= local:
            end = datetime.combine(local.date() + timedelta(days=1), self.end, tzinfo=zone)
        return end.astimezone(now.tzinfo)

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


def parse_quiet_hours(text: str) -> QuietWindow | None:
    """ "23:00-07:00" -> a window; "" -> None. Equal ends are refused (all day or never: say which)."""
    text = text.strip()
    if not text:
        return None
    start_text, sep, end_text = text.partition("-")
    if not sep:
        raise ValueError(f"{text!r} is not a window like 23:00-07:00")
    window = QuietWindow(_parse_hhmm(start_text), _parse_hhmm(end_text))
    if window.start == window.end:
        raise ValueError(f"{text!r} starts and ends at the same time")
    return window


@dataclass(frozen=True, slots=True)
class Slot:
    """One scheduled time on one local date: its key (stored, unique) and the instant it falls at."""

    day: date
    at: time
    when: datetime  # aware, UTC

    @property
    def key(self) -> str:
        return f"{self.day.isoformat()}T{self.at:%H:%M}"


def _slot(day: date, at: time, zone: tzinfo) -> Slot:
    # A time skipped by a DST jump lands an hour later; a repeated one takes its first occurrence (fold=0).
    local = datetime.combine(day, at, tzinfo=zone)
    when = datetime.fromtimestamp(local.timestamp(), tz=ZoneInfo("UTC"))
    return Slot(day, at, when)


def due_slot(now: datetime, times: tuple[time, ...], zone: tzinfo) -> Slot | None:
    """The latest slot at or before `now` (today's or yesterday's), or None when `times` is empty."""
    if not times:
        return None
    # Compared by instant, not by time of day: a time skipped by a DST jump can fall after a later one.
    today = now.astimezone(zone).date()
    slots = [_slot(today - timedelta(days=d), at, zone) for d in (0, 1) for at in times]
    past = [s for s in slots if s.when <= now]
    return max(past, key=lambda s: s.when) if past else None


def next_slot(now: datetime, times: tuple[time, ...], zone: tzinfo) -> Slot | None:
    """The first slot strictly after `now`, or None when `times` is empty."""
    if not times:
        return None
    today = now.astimezone(zone).date()
    slots = [_slot(today + timedelta(days=d), at, zone) for d in (0, 1, 2) for at in times]
    return min((s for s in slots if s.when > now), key=lambda s: s.when)


def notify(
    *,
    breaking: bool,
    silent: bool,
    now: datetime,
    window: QuietWindow | None,
    zone: tzinfo,
    default_silent: bool,
) -> bool:
    """Whether a channel post rings: breaking news always does; an editor's "Post silently" never does;
    inside quiet hours nothing else does; otherwise DISABLE_NOTIFICATION (`default_silent`) decides."""
    if breaking:
        return True
    if silent or (window is not None and window.contains(now, zone)):
        return False
    return not default_silent


def holding(now: datetime, window: QuietWindow | None, zone: tzinfo, mode: str) -> datetime | None:
    """With QUIET_MODE=hold inside quiet hours: when the window ends (posts wait until then); else None."""
    if mode != "hold" or window is None or not window.contains(now, zone):
        return None
    return window.ends_after(now, zone)
