"""Ingest's side of WebSub over real HTTP and SQLite: the hub a feed advertises is stored (and the WebSub
service told), a pushed feed is read only at the ceiling, and pushed bodies take the fetched path without
ever counting as the feed's full item list."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from bot.adapters.parse_pool import ParsePool
from bot.core.policy import PostPolicy
from bot.core.timeutil import to_epoch
from bot.services.push_ingest import PushIngest
from tests.kits.feedserver import RSS_TYPE, FeedServer
from tests.kits.ingestkit import NOW, Stack, make_stack, parse_pool

__all__ = ["parse_pool"]  # the module-scoped fixture, used by name

HUB = "https://hub.example/"


def rss(site: str, numbers: range, *, hub: str | None = HUB, self_url: str | None = None) -> bytes:
    now = datetime.now(UTC)
    links = f'<atom:link rel="hub" href="{hub}"/>' if hub else ""
    if self_url:
        links += f'<atom:link rel="self" href="{self_url}"/>'
    items = "".join(
        f"<item><title>Story {n}</title><link>{site}story/{n}</link><guid>{site}story/{n}</guid>"
        f"<description>What happened in story {n}, in a line.</description>"
        f"<pubDate>{format_datetime(now - timedelta(minutes=100 - n))}</pubDate></item>"
        for n in numbers
    )
    return (
        '<?xml version="1.0"?><rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>'
        f"<title>Planet</title><link>{site}</link>{links}{items}</channel></rss>"
    ).encode()


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    async with FeedServer() as srv:
        yield srv


@pytest.fixture
async def stack(tmp_path: Path, parse_pool: ParsePool) -> AsyncIterator[Stack]:
    st = await make_stack(tmp_path, parse_pool, policy=PostPolicy(backfill_max_posts=2))
    try:
        yield st
    finally:
        await st.close()


async def test_the_advertised_hub_is_stored_and_the_websub_service_told_once(
    server: FeedServer, stack: Stack
) -> None:
    told: list[str] = []
    stack.ingest.on_feeds_changed.append(lambda: told.append("changed"))
    site = server.url("/planet/")
    server.route("/feed", rss(site, range(3), self_url=server.url("/topic")), content_type=RSS_TYPE)
    feed = await stack.add(server.url("/feed"))
    await stack.ingest.run_cycle(NOW, only_due=False)
    stored = await stack.feed(feed.id)
    assert (stored.websub_hub, stored.websub_topic) == (HUB, server.url("/topic"))
    assert told == ["changed"]
    await stack.ingest.run_cycle(NOW + timedelta(minutes=5), only_due=False)  # the same hub: nothing to tell
    assert told == ["changed"]
    # the Link header comes first; the feed's self URL is the topic when the header names none
    server.route("/feed", rss(site, range(3)), content_type=RSS_TYPE, headers={"Link": '</hub2>; rel="hub"'})
    await stack.ingest.run_cycle(NOW + timedelta(minutes=10), only_due=False)
    stored = await stack.feed(feed.id)
    assert (stored.websub_hub, stored.websub_topic) == (server.url("/hub2"), server.url("/feed"))
    assert told == ["changed", "changed"]
    # the hub is gone from the feed: so is the record, and the service is told
    server.route("/feed", rss(site, range(3), hub=None), content_type=RSS_TYPE)
    await stack.ingest.run_cycle(NOW + timedelta(minutes=15), only_due=False)
    stored = await stack.feed(feed.id)
    assert (stored.websub_hub, stored.websub_topic) == (None, None)
    assert len(told) == 3
    assert await stack.ingest.remove_feed(feed.id) is not None
    assert len(told) == 3  # no hub left: its removal concerns no subscription


async def test_a_pushed_feed_is_polled_at_the_ceiling(server: FeedServer, stack: Stack) -> None:
    site = server.url("/planet/")
    server.route("/feed", rss(site, range(3)), content_type=RSS_TYPE)
    feed = await stack.add(server.url("/feed"))
    await stack.ingest.run_cycle(NOW, only_due=False)
    assert (await stack.feed(feed.id)).next_fetch_at <= NOW + timedelta(seconds=132)  # type: ignore[operator]
    await stack.db.execute_write(
        "INSERT INTO websub (feed_id, hub, topic, callback, token, secret, state, expires_at, created_at)"
        " VALUES (?, ?, ?, 'https://bot/websub/t', 't', 's', 'verified', ?, 0)",
        (feed.id, HUB, server.url("/feed"), to_epoch(datetime.now(UTC) + timedelta(days=1))),
    )
    assert (await stack.feed(feed.id)).pushed
    told: list[str] = []
    stack.ingest.on_feeds_changed.append(lambda: told.append("changed"))
    await stack.ingest.run_cycle(NOW + timedelta(minutes=5), only_due=False)
    pushed = await stack.feed(feed.id)
    assert pushed.poll_interval == 3600
    assert pushed.next_fetch_at >= NOW + timedelta(minutes=5, seconds=3240)  # type: ignore[operator]
    # a 410 disables it: the WebSub service is told, to unsubscribe
    server.route("/feed", b"gone", status=410)
    await stack.ingest.run_cycle(NOW + timedelta(hours=2), only_due=False)
    assert not (await stack.feed(feed.id)).enabled
    assert told == ["changed"]


async def test_a_push_of_only_new_entries_is_stored_and_posted_not_taken_as_a_first_sync(
    server: FeedServer, stack: Stack
) -> None:
    site = server.url("/planet/")
    server.route("/feed", rss(site, range(5)), content_type=RSS_TYPE, etag='"v1"')
    feed = await stack.add(server.url("/feed"))
    pushes = PushIngest(stack.ingest)
    fetched: list[int] = []
    stack.ingest.on_fetch.append(fetched.append)
    # never read in full: the push is not taken; the whole feed is read instead
    assert await pushes.ingest_pushed(feed.id, rss(site, range(5, 9)), content_type=RSS_TYPE) is None
    assert fetched == [feed.id]
    assert await stack.rows() == []
    await stack.ingest.run_cycle(NOW, only_due=False)  # the first sync: 5 stored, 2 posted (backfill)
    assert len(await stack.queued()) == 2
    before = await stack.feed(feed.id)
    # the hub pushes 4 new entries (and nothing else): all 4 are new stories, all 4 are posted
    new = await pushes.ingest_pushed(feed.id, rss(site, range(5, 9)), content_type=RSS_TYPE)
    assert new == 4
    rows = await stack.rows()
    assert [r["headline"] for r in rows[5:]] == ["Story 5", "Story 6", "Story 7", "Story 8"]
    assert len(await stack.queued()) == 6
    # the same push again (a hub's retry): nothing new; and the feed's fetch state is untouched
    assert await pushes.ingest_pushed(feed.id, rss(site, range(5, 9)), content_type=RSS_TYPE) == 0
    after = await stack.feed(feed.id)
    assert (after.etag, after.last_fetched_at, after.next_fetch_at) == (
        before.etag,
        before.last_fetched_at,
        before.next_fetch_at,
    )
    assert len(server.requests_to("/feed")) == 1  # a push fetches nothing
    # not a feed, or a feed no longer there: nothing stored
    assert (
        await pushes.ingest_pushed(feed.id, b"<html><body>hi</body></html>", content_type="text/html") is None
    )
    assert await pushes.ingest_pushed(999, rss(site, range(9, 10)), content_type=RSS_TYPE) is None
    assert len(await stack.rows()) == 9
