"""What one read of a feed leaves behind: its FetchOutcome (when to read it next, validators, pace, hub).

Pure decisions for the ingest service, which does the I/O and stores what comes back. A successful read
(a 304 too) updates the pace and chooses the interval: a pushed feed's is the ceiling (reading it only
checks that the hub is not silent); in an adaptive cycle the budget's (`bot.core.pace.PollBudget`);
otherwise (fixed, or a read outside a cycle, such as a ping's) the feed keeps its interval. A full read
also records the WebSub hub the feed advertises now (`bot.core.websub`), and says when that changed so
the WebSub service can be told. A failed read backs off from the feed's own interval, with the server's
Retry-After on top; a redirect to the feed a page links is read again at once.
"""

from __future__ import annotations

from datetime import datetime

from bot.core.digest import FeedDigest
from bot.core.fetching import FetchResult
from bot.core.models import Feed, FetchOutcome
from bot.core.pace import PollBudget, observe, standing_interval
from bot.core.schedule import Schedule, next_fetch_at
from bot.core.websub import discover_hub

__all__ = ["failed_outcome", "read_outcome"]


def read_outcome(
    feed: Feed,
    now: datetime,
    fetched: FetchResult,
    digest: FeedDigest | None,
    *,
    schedule: Schedule,
    budget: PollBudget | None,
    new: int = 0,
) -> tuple[FetchOutcome, bool]:
    """The outcome of a successful read (`digest` None for a 304), and whether the feed's advertised
    WebSub hub or topic changed."""
    dates = [a.published for a in digest.articles] if digest else None
    pace = observe(feed.pace, now, dates=dates, new=new)
    hub, hub_changed = None, False
    if digest is not None:
        hub = discover_hub(
            link_header=fetched.link, hubs=digest.hubs, self_url=digest.self_url, feed_url=fetched.final_url
        )
        advertised = (hub.hub, hub.topic) if hub else (None, None)
        hub_changed = advertised != (feed.websub_hub, feed.websub_topic)
    if feed.pushed:
        interval = max(schedule.max_interval, schedule.interval).total_seconds()
    elif budget is not None:
        interval = budget.interval(feed.id, pace, now)
    else:
        interval = standing_interval(feed, schedule)
    outcome = FetchOutcome(
        feed_id=feed.id,
        now=now,
        next_fetch_at=next_fetch_at(feed.id, now, schedule, max_age=fetched.max_age, interval=interval),
        ok=True,
        etag=fetched.etag,
        last_modified=fetched.last_modified,
        title=digest.title if digest else None,
        site_url=digest.site_url if digest else None,
        new_url=fetched.moved_to,
        synced=digest is not None or feed.synced,
        pace=pace,
        poll_interval=interval,
        websub_read=digest is not None,
        websub_hub=hub.hub if hub else None,
        websub_topic=hub.topic if hub else None,
    )
    return outcome, hub_changed


def failed_outcome(
    feed: Feed,
    now: datetime,
    reason: str,
    schedule: Schedule,
    *,
    retry_after: float | None = None,
    disable: bool = False,
    new_url: str | None = None,
) -> FetchOutcome:
    """The outcome of a failed read: its error, backoff from the feed's own interval (or at once, for a
    new URL to read instead), disabled when the failure is permanent."""
    when = now
    if new_url is None:
        when = next_fetch_at(
            feed.id,
            now,
            schedule,
            failures=feed.error_count + 1,
            retry_after=retry_after,
            interval=standing_interval(feed, schedule),
        )
    if disable:
        reason = f"{reason}; feed disabled"
    return FetchOutcome(feed.id, now, when, ok=False, error=reason, disable=disable, new_url=new_url)
