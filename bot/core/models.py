"""Frozen dataclasses passed between layers: parsed entries, normalised articles, feeds and posts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class RawEntry:
    """One entry as a feed parser returned it, before cleaning. Text fields may hold HTML."""

    guid: str | None
    link: str | None
    title: str | None
    title_is_html: bool
    summary: str | None
    content: str | None  # full body, only used when there is no summary
    published: datetime | None  # aware UTC, or None when the feed gave none
    updated: datetime | None
    categories: tuple[str, ...] = ()
    image: str | None = None


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """A parsed feed document: its own metadata and its entries."""

    title: str | None
    link: str | None  # the site's home page
    entries: tuple[RawEntry, ...]
    format: str  # "rss20", "atom10", "json11", ...
    image: str | None = None
    hubs: tuple[str, ...] = ()  # WebSub hubs the document names (rel="hub"; JSON Feed `hubs`)
    self_url: str | None = None  # its own URL as it states it (rel="self"; JSON Feed `feed_url`)


@dataclass(frozen=True, slots=True)
class Article:
    """A normalised entry: plain-text headline and dek, canonical absolute URL, UTC time."""

    guid: str
    url: str
    headline: str
    dek: str
    published: datetime | None
    categories: tuple[str, ...] = ()
    image: str | None = None
    source: str = ""
    needs_dek: bool = False  # the feed gave no usable summary: fetch og:description


@dataclass(frozen=True, slots=True)
class Pace:
    """How often a feed publishes (see bot/core/pace.py): the estimated mean seconds between its entries,
    and when the newest entry counted appeared; None while not known."""

    gap: float | None = None
    last: datetime | None = None


@dataclass(frozen=True, slots=True)
class Feed:
    """A stored feed subscription and its fetch state."""

    id: int
    url: str
    title: str | None
    enabled: bool
    etag: str | None = None
    last_modified: str | None = None
    last_fetched_at: datetime | None = None
    next_fetch_at: datetime | None = None
    error_count: int = 0
    last_error: str | None = None
    synced: bool = False  # True once the first sync has happened
    site_url: str | None = None
    pace: Pace = Pace()
    poll_interval: float | None = None  # seconds between reads, as last chosen; None = not chosen yet
    websub_hub: str | None = None  # the WebSub hub and topic the feed advertised when last read in full
    websub_topic: str | None = None
    # its WebSub subscription: "pushed" (confirmed, in its lease), "requested", "denied", "failed",
    # "lapsed" (the lease ran out unrenewed); None without one. `push_error` says why it is not pushed.
    push: str | None = None
    push_error: str | None = None
    pinged: bool = False  # an update ping had the feed read lately (bot/core/pings.py PINGED_WITHIN)
    review: bool | None = None  # the feed's own review switch; None follows /review and REVIEW

    @property
    def pushed(self) -> bool:
        """A hub pushes this feed's changes: polling it only checks that the hub is not silent."""
        return self.push == "pushed"


@dataclass(frozen=True, slots=True)
class StoredArticle:
    """An article row as read back from storage."""

    id: int
    feed_id: int
    url: str
    headline: str
    dek: str
    published: datetime
    categories: tuple[str, ...] = ()
    image: str | None = None
    source: str = ""
    first_seen: datetime | None = None


@dataclass(frozen=True, slots=True)
class Topic:
    """A named topic: articles match by keyword in headline/dek or by feed category."""

    name: str
    description: str = ""
    keywords: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    channel_id: str | None = None  # a topic may route to its own channel
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FetchOutcome:
    """What one fetch did to a feed's state; written in batches by `record_outcomes`."""

    feed_id: int
    now: datetime
    next_fetch_at: datetime
    ok: bool
    etag: str | None = None
    last_modified: str | None = None
    title: str | None = None
    site_url: str | None = None
    error: str | None = None
    new_url: str | None = None  # permanent redirect
    disable: bool = False  # 410 Gone
    synced: bool = False
    pace: Pace | None = None  # after a success: the feed's pace and the interval chosen from it
    poll_interval: float | None = None
    websub_read: bool = False  # the body was read: `websub_hub/topic` are what the feed advertises now
    websub_hub: str | None = None
    websub_topic: str | None = None
