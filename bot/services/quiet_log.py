"""Warnings about what the outside world sends us (pings, pushes), logged once a minute however many come.

A flood of ignored requests must not flood the log: the first of a kind is logged, then at most one line
per `LOG_EVERY` seconds with how many were suppressed in between. Used by the ping and WebSub services.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

LOG_EVERY = 60.0  # seconds between two log lines of one kind of event


class QuietLog:
    """Logs an event's first occurrence, then at most once per LOG_EVERY with how many were suppressed."""

    def __init__(self, clock: Callable[[], float], logger: Any, *, every: float = LOG_EVERY) -> None:
        self._clock = clock
        self._log = logger
        self._every = every
        self._last: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}

    def warning(self, event: str, **fields: object) -> None:
        now = self._clock()
        last = self._last.get(event)
        if last is not None and now - last < self._every:
            self._suppressed[event] = self._suppressed.get(event, 0) + 1
            return
        self._last[event] = now
        self._log.warning(event, suppressed=self._suppressed.pop(event, 0), **fields)
