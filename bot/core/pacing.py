"""Rolling-window rate limits for sending: per chat (a channel's 20 a minute) and global (30 a second).

Pure: callers pass the time (monotonic seconds) and do the waiting; nothing here sleeps.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable

__all__ = ["Pacer", "RateWindow"]


class RateWindow:
    """At most `limit` events in any `period` seconds, for each key separately."""

    def __init__(self, limit: int, period: float) -> None:
        if limit < 1 or period <= 0:
            raise ValueError("a rate window needs limit >= 1 and period > 0")
        self.limit = limit
        self.period = period
        self._events: dict[Hashable, deque[float]] = {}
        self._blocked: dict[Hashable, float] = {}

    def wait_time(self, key: Hashable, now: float) -> float:
        """Seconds until `key` may have one more event; 0.0 when it may now."""
        wait = max(0.0, self._blocked.get(key, 0.0) - now)
        events = self._events.get(key)
        if events:
            while events and events[0] <= now - self.period:
                events.popleft()
            if len(events) >= self.limit:
                wait = max(wait, events[len(events) - self.limit] + self.period - now)
        return wait

    def record(self, key: Hashable, now: float) -> None:
        """Count one event for `key` at `now`."""
        events = self._events.setdefault(key, deque())
        events.append(now)
        while len(events) > self.limit:
            events.popleft()

    def block(self, key: Hashable, until: float) -> None:
        """Allow nothing for `key` before `until` (after a 429's retry_after)."""
        self._blocked[key] = max(self._blocked.get(key, 0.0), until)

    def forget_idle(self, now: float) -> int:
        """Forget the keys with no event in the last `period` and no block left; returns how many."""
        idle = [k for k, events in self._events.items() if not events or events[-1] <= now - self.period]
        for key in idle:
            del self._events[key]
        for key in [k for k, until in self._blocked.items() if until <= now]:
            del self._blocked[key]
        return len(idle)

    def __len__(self) -> int:
        return len(self._events)


class Pacer:
    """A per-chat window and one global window; a send may go when both allow it."""

    def __init__(self, per_chat: RateWindow, overall: RateWindow) -> None:
        self.per_chat = per_chat
        self.overall = overall

    @classmethod
    def telegram(cls, posts_per_window: int = 20, window: float = 60.0, global_per_second: int = 30) -> Pacer:
        return cls(RateWindow(posts_per_window, window), RateWindow(global_per_second, 1.0))

    def wait_time(self, chat: Hashable, now: float) -> float:
        return max(self.per_chat.wait_time(chat, now), self.overall.wait_time(None, now))

    def record(self, chat: Hashable, now: float) -> None:
        self.per_chat.record(chat, now)
        self.overall.record(None, now)

    def record_global(self, now: float) -> None:
        """Count a message that is not a channel post (an admin notice) against the global budget only."""
        self.overall.record(None, now)
