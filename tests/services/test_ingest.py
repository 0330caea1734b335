"""Ingest over real HTTP into a real SQLite file: what lands in the database, deduplication, first-sync
backfill, updates, og:description fallback, topics, feed management and the service loop.

Failures (HTTP errors, timeouts, caps, redirects, hostile XML) are in test_ingest_failures.py.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from datetime import timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.parse_pool import ParsePool
from bot.core.errors import DuplicateFeedError, FeedParseError
from bot.core.models import Topic
from bot.core.topics import TopicMatcher
from tests.kits.feedserver import ATOM_TYPE, HTML_TYPE, JSON_FEED_TYPE, RSS_TYPE, FeedServer
from tests.kits.ingestkit import CHANNEL, DATA, NOW, Stack, make_stack, parse_pool

__all__ = ["parse_pool"]  # the module-scoped fixture, used by name

GOLDEN_CASES = {
    "wordpress.xml": RSS_TYPE,
    "atom_html_titles.xml": ATOM_TYPE,
    "jsonfeed.json": JSON_FEED_TYPE,
    "windows1252.xml": "application/rss+xml",  # no charset: the XML declaration says windows-1252
    "relative_links.xml": "text/xml",
}


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    async with FeedServer() as srv:
        yield srv


@pytest.fixture
async def stack(tmp_path: Path, parse_pool: ParsePool) -> AsyncIterator[Stack]:
    st = await make_stack(tmp_path, parse_pool)
    try:
        yield st
    finally:
        await st.close()


def rss(items: list[dict[str, Any]], title: str = "Test Feed", link: str = "https://news.example/") -> str:
    """A small RSS 2.0 document; each item may have title, link, guid, description, pubDate, category.

    Items get a description unless given `"description": None` (no summary: ingest then fetches the
    article page for its og:description, which is only wanted where the page is served here)."""
    parts = [f'<?xml version="1.0"?><rss version="2.0"><channel><title>{title}</title><link>{link}</link>']
    for given in items:
        item = {"description": f"About {given.get('title', 'it')}.", **given}
        parts.append("<item>")
        for key in ("title", "link", "guid", "description", "pubDate", "category"):
            if item.get(key) is not None:
                parts.append(f"<{key}>{item[key]}</{key}>")
        parts.append("</item>")
    parts.append("</channel></rss>")
    return "".join(parts)


def when(hours_ago: float) -> str:
    return format_datetime(NOW - timedelta(hours=hours_ago))


@pytest.mark.parametrize("case", sorted(GOLDEN_CASES))
async def test_golden_what_lands_in_sqlite(case: str, server: FeedServer, stack: Stack) -> None:
    """Regenerate with NEWSBOT_REGEN_GOLDEN=1, then read every diff before committing it."""
    server.route(f"/{case}", (DATA / case).read_bytes(), content_type=GOLDEN_CASES[case])
    await stack.add(server.url(f"/{case}"))
    summary = await stack.ingest.run_cycle(NOW)
    assert summary.failed == 0
    base = server.url("")
    actual = [
        {k: (v.replace(base, "http://feeds.test") if isinstance(v, str) else v) for k, v in row.items()}
        for row in await stack.rows()
    ]
    for row in actual:
        del row["id"], row["feed_id"], row["first_seen_at"], row["updated_at"]
    expected_path = DATA / (case.rsplit(".", 1)[0] + ".stored.json")
    if os.environ.get("NEWSBOT_REGEN_GOLDEN"):
        expected_path.write_text(json.dumps(actual, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    assert actual == json.loads(expected_path.read_text(encoding="utf-8"))
    assert summary.new_articles == len(actual)
    feed = await stack.feed(1)
    assert feed.synced
    assert feed.title  # the feed's own title is stored for /feeds
    assert feed.last_error is None


async def test_same_story_in_two_feeds_is_stored_once(server: FeedServer, stack: Stack) -> None:
    story = {"title": "Dam report published", "description": "The full text.", "pubDate": when(1)}
    server.route("/a.xml", rss([{**story, "link": "https://news.example/dam-report", "guid": "a-1"}]))
    server.route(
        "/b.xml",
        rss(
            [
                {
                    **story,
                    "link": "https://news.example/dam-report?utm_source=partner&amp;utm_medium=rss#top",
                    "guid": "b-77",
                },
                {"title": "Only in B", "link": "https://news.example/only-b", "pubDate": when(1)},
            ]
        ),
    )
    a, b = await stack.add(server.url("/a.xml")), await stack.add(server.url("/b.xml"))
    for feed in (a, b):  # both past their first sync, so every fresh story is queued
        await stack.db.execute_write("UPDATE feeds SET synced = 1 WHERE id = ?", (feed.id,))
    summary = await stack.ingest.run_cycle(NOW)
    rows = await stack.rows()
    assert [r["url"] for r in rows].count("https://news.example/dam-report") == 1
    assert len(rows) == 2
    assert summary.new_articles == 2
    assert len(await stack.queued()) == 2  # one post per story, not per feed
    # the link later gaining tracking parameters in the same feed is still the same story
    server.route(
        "/a.xml",
        rss(
            [{**story, "link": "https://news.example/dam-report?utm_campaign=x&amp;fbclid=1", "guid": "a-1"}]
        ),
    )
    again = await stack.ingest.run_cycle(NOW + timedelta(minutes=5), only_due=False)
    assert again.new_articles == 0
    assert len(await stack.rows()) == 2


async def test_first_sync_queues_only_recent_backfill(server: FeedServer, stack: Stack) -> None:
    items = [
        {"title": f"Story {h}", "link": f"https://news.example/s{h}", "pubDate": when(h)}
        for h in (1, 2, 3, 5, 8, 30, 60)
    ]
    server.route("/f.xml", rss(items), etag='"v1"')
    feed = await stack.add(server.url("/f.xml"))
    first = await stack.ingest.run_cycle(NOW)
    assert first.new_articles == 7  # all stored for /latest and search
    rows = {r["id"]: r["headline"] for r in await stack.rows()}
    queued = [rows[article_id] for article_id, _ in await stack.queued()]
    assert sorted(queued) == ["Story 1", "Story 2", "Story 3"]  # BACKFILL_MAX_POSTS newest
    assert (await stack.feed(feed.id)).synced
    # after the first sync every fresh story is posted, but nothing older than MAX_POST_AGE_HOURS
    later = NOW + timedelta(minutes=10)
    items += [
        {"title": "Fresh A", "link": "https://news.example/fa", "pubDate": format_datetime(later)},
        {"title": "Fresh B", "link": "https://news.example/fb", "pubDate": when(6)},
        {"title": "Old but new to us", "link": "https://news.example/old", "pubDate": when(49)},
    ]
    server.route("/f.xml", rss(items), etag='"v2"')
    second = await stack.ingest.run_cycle(later, only_due=False)
    assert second.new_articles == 3
    rows = {r["id"]: r["headline"] for r in await stack.rows()}
    queued = sorted(rows[article_id] for article_id, _ in await stack.queued())
    assert queued == ["Fresh A", "Fresh B", "Story 1", "Story 2", "Story 3"]
    assert {chat for _, chat in await stack.queued()} == {CHANNEL}


async def test_changed_headline_is_an_update_not_a_new_article(server: FeedServer, stack: Stack) -> None:
    item = {"title": "Mayor resigns", "link": "https://news.example/mayor", "guid": "m-1", "pubDate": when(1)}
    item["description"] = "She cited health reasons."
    server.route("/f.xml", rss([item]), etag='"v1"')
    await stack.add(server.url("/f.xml"))
    await stack.ingest.run_cycle(NOW)
    server.route("/f.xml", rss([{**item, "title": "Mayor resigns after 12 years"}]), etag='"v2"')
    summary = await stack.ingest.run_cycle(NOW + timedelta(minutes=3), only_due=False)
    assert (summary.new_articles, summary.updated_articles) == (0, 1)
    (row,) = await stack.rows()
    assert row["headline"] == "Mayor resigns after 12 years"
    assert row["updated_at"] == (NOW + timedelta(minutes=3)).isoformat()
    # the same bytes again: nothing changes
    server.route("/f.xml", rss([{**item, "title": "Mayor resigns after 12 years"}]), etag='"v3"')
    same = await stack.ingest.run_cycle(NOW + timedelta(minutes=6), only_due=False)
    assert (same.new_articles, same.updated_articles) == (0, 0)


async def test_dek_from_og_description_when_the_feed_has_no_summary(server: FeedServer, stack: Stack) -> None:
    page = (
        '<html><head><meta property="og:description" content="Crews worked through the night &amp; '
        'reopened the road by 6am.">'
        '<meta property="og:image" content="/img/road.jpg"><title>Road</title></head><body>x</body></html>'
    )
    server.route("/story/road", page, content_type=HTML_TYPE)
    server.route("/story/broken", status=500)
    items = [
        {"title": "Road reopens", "link": server.url("/story/road"), "pubDate": when(1), "description": None},
        {
            "title": "Page is down",
            "link": server.url("/story/broken"),
            "pubDate": when(2),
            "description": None,
        },
    ]
    server.route("/f.xml", rss(items), etag='"v1"')
    await stack.add(server.url("/f.xml"))
    summary = await stack.ingest.run_cycle(NOW)
    assert summary.failed == 0
    road, broken = await stack.rows()
    assert road["dek"] == "Crews worked through the night & reopened the road by 6am."
    assert road["image"] == server.url("/img/road.jpg")
    assert broken["dek"] == ""  # the page failed: stored anyway, without a dek
    assert server.requests_to("/story/road")[0].headers["Accept"].startswith("text/html")
    # a later change of the feed does not refetch known pages and is not mistaken for an edit
    server.route("/f.xml", rss(items) + "\n", etag='"v2"')
    again = await stack.ingest.run_cycle(NOW + timedelta(minutes=5), only_due=False)
    assert (again.new_articles, again.updated_articles) == (0, 0)
    assert server.hits["/story/road"] == 1
    assert server.hits["/story/broken"] == 1


async def test_articles_are_tagged_with_matching_topics(server: FeedServer, stack: Stack) -> None:
    await stack.topics.save(Topic("weather", "Storms", keywords=("storm",)), NOW)
    await stack.topics.save(Topic("schools", "Education", categories=("Education",)), NOW)
    items = [
        {"title": "Storm closes the ferry", "link": "https://news.example/ferry", "pubDate": when(1)},
        {"title": "New head teacher", "link": "https://news.example/head", "category": "Education"},
        {"title": "Bakery wins prize", "link": "https://news.example/bakery", "pubDate": when(1)},
    ]
    server.route("/f.xml", rss(items))
    await stack.add(server.url("/f.xml"))
    await stack.ingest.run_cycle(NOW)
    tags = await stack.db.fetchall(
        "SELECT t.name, a.url FROM article_topics x JOIN topics t ON t.id = x.topic_id"
        " JOIN articles a ON a.id = x.article_id ORDER BY t.name"
    )
    assert [(r[0], r[1]) for r in tags] == [
        ("schools", "https://news.example/head"),
        ("weather", "https://news.example/ferry"),
    ]
    assert all(isinstance(m, TopicMatcher) for m in await stack.topics.matchers())


async def test_warm_cycle_is_304s_in_one_outcome_batch(server: FeedServer, stack: Stack) -> None:
    for i in range(30):
        server.route(
            f"/f{i}.xml", rss([{"title": f"S{i}", "link": f"https://n.example/{i}"}]), etag=f'"e{i}"'
        )
        await stack.add(server.url(f"/f{i}.xml"))
    cold = await stack.ingest.run_cycle(NOW)
    assert (cold.feeds_fetched, cold.new_articles, cold.not_modified) == (30, 30, 0)
    writes: list[int] = []
    record = stack.feeds.record_outcomes

    async def counting(outcomes: list[Any]) -> None:
        writes.append(len(outcomes))
        await record(outcomes)

    stack.feeds.record_outcomes = counting  # type: ignore[method-assign]
    digests: list[str] = []
    digest = stack.ingest.reader.digest

    async def counting_digest(*args: Any, **kwargs: Any) -> Any:
        digests.append("x")
        return await digest(*args, **kwargs)

    stack.ingest.reader.digest = counting_digest  # type: ignore[method-assign]
    warm = await stack.ingest.run_cycle(NOW + timedelta(minutes=5), only_due=False)
    assert (warm.feeds_fetched, warm.not_modified, warm.failed, warm.new_articles) == (30, 30, 0, 0)
    assert writes == [30]  # one transaction for the whole cycle
    assert digests == []  # a 304 is never parsed
    assert server.requests_to("/f7.xml")[-1].headers["If-None-Match"] == '"e7"'
    assert warm.line().startswith(
        "fetched 30 feeds: 30 not modified, 0 failed, 0 new articles, 0 updated in "
    )
    # schedule: nothing is due right after, and each feed comes back in 120 s ± 10%
    assert await stack.feeds.due(NOW + timedelta(minutes=5)) == []
    due = [f.next_fetch_at for f in await stack.feeds.all()]
    start = NOW + timedelta(minutes=5)
    assert all(start + timedelta(seconds=108) <= d <= start + timedelta(seconds=132) for d in due if d)
    assert len(set(due)) > 10  # jittered apart


async def test_add_feed_discovers_the_feed_of_a_home_page(server: FeedServer, stack: Stack) -> None:
    home = (
        "<!doctype html><html><head><title>Gazette</title>"
        '<link rel="alternate" type="application/rss+xml" title="Comments" href="/comments/feed/">'
        '<link rel="alternate" type="application/rss+xml" title="Gazette" href="/feed/"></head></html>'
    )
    server.route("/", home, content_type=HTML_TYPE)
    server.route("/feed/", rss([{"title": "Hello", "link": "https://g.example/1"}], title="The Gazette"))
    feed = await stack.ingest.add_feed(server.url("/"))
    assert feed.url == server.url("/feed/")
    assert feed.title == "The Gazette"
    assert not feed.synced  # the first cycle does the first sync
    with pytest.raises(DuplicateFeedError, match="already added"):
        await stack.ingest.add_feed(server.url("/"))
    with pytest.raises(DuplicateFeedError, match="already added"):
        await stack.ingest.add_feed(server.url("/feed/"))
    server.route("/plain", "<html><head><title>No feeds</title></head></html>", content_type=HTML_TYPE)
    with pytest.raises(FeedParseError, match="links no RSS, Atom or JSON feed"):
        await stack.ingest.add_feed(server.url("/plain"))
    removed = await stack.ingest.remove_feed(str(feed.id))
    assert removed is not None
    assert removed.id == feed.id
    assert await stack.ingest.remove_feed(feed.id) is None
    again = await stack.ingest.add_feed(server.url("/feed/"))
    assert await stack.ingest.remove_feed(f"  {again.url} ") is not None
    assert await stack.feeds.all() == []


async def test_configured_feeds_are_added_once(tmp_path: Path, parse_pool: ParsePool) -> None:
    urls = ("https://a.example/feed", "https://b.example/rss")
    st = await make_stack(tmp_path, parse_pool, configured=urls)
    try:
        assert await st.ingest.catalog.ensure_configured_feeds() == 2
        assert sorted(f.url for f in await st.feeds.all()) == sorted(urls)
        removed = await st.ingest.remove_feed(urls[0])
        assert removed is not None
        assert await st.ingest.catalog.ensure_configured_feeds() == 0  # an admin's removal sticks
        assert [f.url for f in await st.feeds.all()] == [urls[1]]
    finally:
        await st.close()


async def test_feeds_setting_naming_a_home_page_switches_to_its_feed(
    server: FeedServer, stack: Stack
) -> None:
    home = '<html><head><link rel="alternate" type="application/atom+xml" href="/atom.xml"></head></html>'
    server.route("/site", home, content_type=HTML_TYPE)
    server.route("/atom.xml", (DATA / "atom_html_titles.xml").read_bytes(), content_type=ATOM_TYPE)
    feed = await stack.add(server.url("/site"))
    first = await stack.ingest.run_cycle(NOW)
    assert first.failed == 1
    moved = await stack.feed(feed.id)
    assert moved.url == server.url("/atom.xml")
    assert moved.last_error is not None
    assert "using the feed it links" in moved.last_error
    second = await stack.ingest.run_cycle(NOW)  # due again at once
    assert (second.failed, second.new_articles) == (0, 2)
    assert (await stack.feed(feed.id)).last_error is None
    # another page linking the same feed is not switched onto it (and not retried at once)
    server.route("/mirror", home, content_type=HTML_TYPE)
    mirror = await stack.add(server.url("/mirror"))
    await stack.ingest.run_cycle(NOW)
    twin = await stack.feed(mirror.id)
    assert twin.url == server.url("/mirror")
    assert twin.last_error == f"an HTML page whose feed is already feed {feed.id}"
    assert twin.next_fetch_at is not None
    assert twin.next_fetch_at > NOW + timedelta(minutes=3)


async def test_loop_reads_due_feeds_wakes_on_add_and_stops(server: FeedServer, stack: Stack) -> None:
    server.route("/one.xml", rss([{"title": "One", "link": "https://n.example/1"}]))
    server.route("/two.xml", rss([{"title": "Two", "link": "https://n.example/2"}]))
    await stack.add(server.url("/one.xml"))
    stop = asyncio.Event()
    loop = asyncio.create_task(stack.ingest.loop(None, stop))

    async def stored(n: int) -> None:
        while len(await stack.rows()) < n:
            await asyncio.sleep(0.02)

    await asyncio.wait_for(stored(1), timeout=10)
    await stack.ingest.add_feed(server.url("/two.xml"))  # wakes the sleeping loop (poll interval: 120 s)
    await asyncio.wait_for(stored(2), timeout=10)
    stop.set()
    await asyncio.wait_for(loop, timeout=5)
    assert server.hits["/one.xml"] == 1  # not due again within the interval


async def test_preview_renders_posts_and_stores_nothing(server: FeedServer, stack: Stack) -> None:
    server.route("/feed.json", (DATA / "jsonfeed.json").read_bytes(), content_type=JSON_FEED_TYPE)
    preview = await stack.ingest.preview(f" {server.url('/feed.json')} ")
    assert preview.source_url == server.url("/feed.json")
    (chips, chips_html), (robots, _) = preview.entries
    assert chips.headline == "Chip plant opens with 800 jobs"
    assert robots.dek == "A lab in Zurich taught robots to fold towels. Next: shirts."
    assert chips_html == (
        "<b>Chip plant opens with 800 jobs</b>\n\nThe factory makes sensors for cars &amp; phones.\n\n"
        '<a href="https://bytes.example/2024/05/01/chips">Read more at Bytes Daily</a>'
    )
    assert await stack.rows() == []
    assert await stack.feeds.all() == []
