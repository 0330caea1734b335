"""Per-user command rate limiting as token buckets: allow, warn once, then ignore until the bucket refills.

Pure: the caller passes monotonic seconds and acts on the verdict (the chat edge replies "slow down" once);
nothing here sleeps or knows about Telegram. Each user has their own bucket, so one flooding reader never
slows another.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

__all__ = ["CommandLimiter", "Verdict"]


class Verdict(Enum):
    ALLOW = "allow"
    WARN = "warn"  # the first command over the limit: answer "slow down" once
    DROP = "drop"  # further commands until a token is back: ignore silently


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float
    warned: bool = False


class CommandLimiter:
    """`capacity` commands at once, refilled at `capacity / period` per second, per user.

    With the defaults (5 per 10 s) a reader may send five commands in a burst and then one every two
    seconds. Idle buckets are forgotten once full again, so memory follows active users only.
    """

    def __init__(self, capacity: int = 5, period: float = 10.0, *, max_users: int = 100_000) -> None:
        if capacity < 1 or period <= 0:
            raise ValueError("a command limit needs capacity >= 1 and period > 0")
        self.capacity = float(capacity)
        self.rate = capacity / period
        self.max_users = max_users
        self._buckets: dict[int, _Bucket] = {}

    def check(self, user_id: int, now: float) -> Verdict:
        """Spend a token for one command of `user_id` at `now`, or say why not."""
        bucket = self._buckets.get(user_id)
        if bucket is None:
            if len(self._buckets) >= self.max_users:
                self.forget_idle(now)
            bucket = self._buckets[user_id] = _Bucket(self.capacity, now)
        else:
            elapsed = max(0.0, now - bucket.at)
            bucket.tokens = min(self.capacity, bucket.tokens + elapsed * self.rate)
            bucket.at = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            bucket.warned = False
            return Verdict.ALLOW
        if bucket.warned:
            return Verdict.DROP
        bucket.warned = True
        return Verdict.WARN

    def retry_in(self, user_id: int, now: float) -> float:
        """Seconds until `user_id` may send one more command."""
        bucket = self._buckets.get(user_id)
        if bucket is None:
            return 0.0
        tokens = min(self.capacity, bucket.tokens + max(0.0, now - bucket.at) * self.rate)
        return 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.rate

    def forget_idle(self, now: float) -> int:
        """Drop the buckets that have refilled completely; returns how many were dropped."""
        full = [
            uid
            for uid, b in self._buckets.items()
            if b.tokens + max(0.0, now - b.at) * self.rate >= self.capacity
        ]
        for uid in full:
            del self._buckets[uid]
        if len(self._buckets) >= self.max_users:  # all busy: keep the most recent half
            recent = sorted(self._buckets.items(), key=lambda item: item[1].at)[len(self._buckets) // 2 :]
            self._buckets = dict(recent)
        return len(full)

    def __len__(self) -> int:
        return len(self._buckets)
