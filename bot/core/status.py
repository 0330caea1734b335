"""The bot's health in numbers and as plain text, for `newsbot stats` and the admin /status command.

Pure: the dataclasses are filled by the repositories; this module only computes percentiles and formats.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.core.timeutil import humanize_age

OUTBOX_STATES = ("queued", "sending", "sent", "failed", "unknown", "skipped")


@dataclass(frozen=True, slots=True)
class PausedChannel:
    chat_id: str
    reason: str
    since: datetime | None = None


@dataclass(frozen=True, slots=True)
class UnknownPost:
    """A post whose send was in flight when the process died or the request timed out: maybe delivered."""

    outbox_id: int
    chat_id: str
    headline: str
    url: str
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PublishStats:
    """The outbox in numbers. Latencies are article stored → message accepted by Telegram."""

    counts: dict[str, int] = field(default_factory=dict)
    latency_p50_ms: int | None = None
    latency_p99_ms: int | None = None
    latency_samples: int = 0
    pending_edits: int = 0
    paused_all: str | None = None  # the reason, when posting is paused everywhere
    paused_channels: tuple[PausedChannel, ...] = ()
    unknown: tuple[UnknownPost, ...] = ()  # the most recent first, a few at most
    last_error: str | None = None
    last_error_at: datetime | None = None

    def count(self, state: str) -> int:
        return self.counts.get(state, 0)


@dataclass(frozen=True, slots=True)
class StatusSnapshot:
    """Everything `status_text` shows."""

    feeds: int
    feeds_enabled: int
    feeds_failing: int
    articles: int
    publish: PublishStats
    last_fetch_at: datetime | None = None


def percentile(values: Sequence[int], q: float) -> int | None:
    """The nearest-rank `q`-th percentile (0 < q ≤ 100) of `values`, None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def format_ms(ms: int | None) -> str:
    """'—', '850 ms', '2.4 s', '3m 10s' or '2h 05m'."""
    if ms is None:
        return "—"
    if ms < 1000:
        return f"{ms} ms"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def _ago(at: datetime | None, now: datetime) -> str:
    return humanize_age((now - at).total_seconds()) if at is not None else "at an unknown time"


def publish_lines(stats: PublishStats, now: datetime) -> list[str]:
    """The outbox part of the status: counts, latency, pauses, in-flight-unknown posts and the last error."""
    counts = " · ".join(f"{state} {stats.count(state)}" for state in OUTBOX_STATES if stats.count(state))
    lines = [f"Outbox: {counts or 'empty'}"]
    if stats.pending_edits:
        lines.append(f"Corrections waiting to be edited: {stats.pending_edits}")
    if stats.latency_samples:
        lines.append(
            f"Publish latency (last {stats.latency_samples}): p50 {format_ms(stats.latency_p50_ms)}, "
            f"p99 {format_ms(stats.latency_p99_ms)}"
        )
    else:
        lines.append("Publish latency: no posts sent yet")
    if stats.paused_all is not None:
        lines.append(f"⏸ Posting paused everywhere: {stats.paused_all} (/resume to continue)")
    for channel in stats.paused_channels:
        lines.append(
            f"⏸ Channel {channel.chat_id} paused {_ago(channel.since, now)}: {channel.reason} "
            "(/resume once fixed)"
        )
    unknown = stats.count("unknown")
    if unknown:
        lines.append(
            f"⚠ {unknown} post(s) were being sent when the bot stopped or the request timed out; "
            "they may or may not be in the channel and were not re-sent:"
        )
        lines.extend(f"  • #{p.outbox_id} {p.chat_id}: {p.headline} {p.url}" for p in stats.unknown)
    if stats.last_error:
        lines.append(f"Last error ({_ago(stats.last_error_at, now)}): {stats.last_error}")
    return lines


def status_text(snapshot: StatusSnapshot, now: datetime) -> str:
    """Plain-text status: feeds, articles, then the outbox (see `publish_lines`)."""
    feeds = f"Feeds: {snapshot.feeds} ({snapshot.feeds_enabled} enabled"
    feeds += f", {snapshot.feeds_failing} failing)" if snapshot.feeds_failing else ")"
    lines = [feeds]
    if snapshot.last_fetch_at is not None:
        lines.append(f"Last fetch: {_ago(snapshot.last_fetch_at, now)}")
    lines.append(f"Articles stored: {snapshot.articles}")
    lines.extend(publish_lines(snapshot.publish, now))
    return "\n".join(lines)
