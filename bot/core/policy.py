"""Pure posting decisions: which new articles go to the channel, and which corrections edit a post."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class PostPolicy:
    backfill_max_posts: int = 3
    backfill_max_age: timedelta = timedelta(hours=24)
    max_post_age: timedelta = timedelta(hours=48)
    edit_window: timedelta = timedelta(hours=48)
    review: bool = False  # REVIEW: new posts wait for an editor (a /review switch or a feed's own overrides)
    breaking_categories: frozenset[str] = frozenset()  # casefolded BREAKING_CATEGORIES


def is_breaking(categories: tuple[str, ...], breaking: frozenset[str]) -> bool:
    """An entry is breaking news when one of its feed categories is in BREAKING_CATEGORIES (any case)."""
    return any(" ".join(c.split()).casefold() in breaking for c in categories)


def choose_posts(
    candidates: list[tuple[str, datetime]], *, first_sync: bool, now: datetime, policy: PostPolicy
) -> set[str]:
    """Return the keys of new articles to queue for the channel.

    `candidates` are (key, published) of articles stored for the first time in this cycle, published
    already defaulted to first-seen when the feed gave none. Nothing older than `max_post_age` is posted;
    on a feed's first sync only the newest `backfill_max_posts` within `backfill_max_age` are.
    """
    fresh = [(key, published) for key, published in candidates if now - published <= policy.max_post_age]
    if not first_sync:
        return {key for key, _ in fresh}
    recent = [(key, p) for key, p in fresh if now - p <= policy.backfill_max_age]
    recent.sort(key=lambda kp: kp[1], reverse=True)
    return {key for key, _ in recent[: policy.backfill_max_posts]}


def should_edit(sent_at: datetime | None, *, now: datetime, policy: PostPolicy) -> bool:
    """A correction edits the channel post only within the edit window after it was sent."""
    return sent_at is not None and now - sent_at <= policy.edit_window
