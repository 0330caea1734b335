"""UTC time conversions shared by the layers: aware datetimes in code, integer Unix seconds in storage."""

from __future__ import annotations

from datetime import UTC, datetime


def to_epoch(value: datetime) -> int:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp())


def from_epoch(value: int | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def humanize_age(seconds: float) -> str:
    """'just now', '5m ago', '2h ago', '3d ago'."""
    if seconds < 60:
        return "just now"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes}m ago"
    hours = minutes // 60
    if hours < 48:
        return f"{hours}h ago"
    return f"{hours // 24}d ago"
