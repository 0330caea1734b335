"""Ingest when feeds misbehave: HTTP errors, slow and huge answers, redirects, hostile or broken XML.

Each failure is stored on its feed (`last_error`, backoff) and never delays or breaks the other feeds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.parse_pool import ParsePool
from bot.core.errors import FeedParseError
from bot.core.fetching import FetchResult
from bot.core.models import Article
from bot.core.schedule import MAX_BACKOFF
from bot.services.feed_reader import FeedReader, ReaderConfig
from tests.kits.feedserver import FeedServer
from tests.kits.ingestkit import NOW, Stack, make_stack, parse_pool

__all__ = ["parse_pool"]

GOOD = (
    '<?xml version="1.0"?><rss version="2.0"><channel><title>Good</title>'
    "<item><title>Still here</title><link>https://good.example/1</link>"
    "<description>Unaffected by the others.</description></item></channel></rss>"
)


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    async with FeedServer() as srv:
        srv.route("/good.xml", GOOD)
        yield srv


@pytest.fixture
async def stack(tmp_path: Path, parse_pool: ParsePool) -> AsyncIterator[Stack]:
    st = await make_stack(tmp_path, parse_pool, timeout=0.5, max_bytes=256 * 1024)
    try:
        yield st
    finally:
        await st.close()


async def run_with_good(stack: Stack, server: FeedServer, path: str) -> tuple[Any, int]:
    """Add `path` and the good feed, run one cycle; returns (summary, id of the feed at `path`)."""
    bad = await stack.add(server.url(path))
    await stack.add(server.url("/good.xml"))
    summary = await stack.ingest.run_cycle(NOW)
    assert [r["headline"] for r in await stack.rows()] == ["Still here"]
    return summary, bad.id


def within(value: datetime | None, expected: timedelta, tolerance: float = 0.1) -> bool:
    assert value is not None
    return expected * (1 - tolerance) <= value - NOW <= expected * (1 + tolerance)


async def test_server_error_backs_off_and_stores_the_error(server: FeedServer, stack: Stack) -> None:
    server.route("/broken.xml", "oops", status=500)
    summary, bad = await run_with_good(stack, server, "/broken.xml")
    assert (summary.feeds_fetched, summary.failed, summary.new_articles) == (2, 1, 1)
    feed = await stack.feed(bad)
    assert feed.last_error == "HTTP 500 Internal Server Error"
    assert feed.error_count == 1
    assert feed.enabled
    assert within(feed.next_fetch_at, timedelta(seconds=240))  # 2 x the interval
    await stack.ingest.run_cycle(NOW, only_due=False)
    await stack.ingest.run_cycle(NOW, only_due=False)
    feed = await stack.feed(bad)
    assert feed.error_count == 3
    assert within(feed.next_fetch_at, timedelta(seconds=960))  # 8 x
    for _ in range(10):
        await stack.ingest.run_cycle(NOW, only_due=False)
    assert within((await stack.feed(bad)).next_fetch_at, MAX_BACKOFF)
    server.route("/broken.xml", GOOD.replace("good.example/1", "good.example/2"))
    await stack.ingest.run_cycle(NOW, only_due=False)
    healed = await stack.feed(bad)
    assert (healed.error_count, healed.last_error) == (0, None)
    assert within(healed.next_fetch_at, timedelta(seconds=120))


async def test_a_slow_feed_does_not_hold_up_the_others(server: FeedServer, stack: Stack) -> None:
    server.route("/slow.xml", GOOD, delay=30)
    started = time.monotonic()
    summary, bad = await run_with_good(stack, server, "/slow.xml")
    assert time.monotonic() - started < 5
    assert summary.failed == 1
    assert (await stack.feed(bad)).last_error == "timed out after 0.5 s"


async def test_oversized_feed_fails_without_reading_it_all(server: FeedServer, stack: Stack) -> None:
    server.route("/huge.xml", b"<rss>", stream_bytes=100 * 1024 * 1024)
    started = time.monotonic()
    _, bad = await run_with_good(stack, server, "/huge.xml")
    assert time.monotonic() - started < 5
    assert (await stack.feed(bad)).last_error == "response larger than 256 KiB"


async def test_redirect_loop_fails_the_feed(server: FeedServer, stack: Stack) -> None:
    server.redirect("/loop-a", "/loop-b", 302)
    server.redirect("/loop-b", "/loop-a", 302)
    _, bad = await run_with_good(stack, server, "/loop-a")
    error = (await stack.feed(bad)).last_error
    assert error is not None
    assert error.startswith("redirect loop at ")


async def test_permanent_redirect_moves_the_feed_temporary_does_not(server: FeedServer, stack: Stack) -> None:
    server.redirect("/old.xml", "/good.xml", 301)
    server.redirect("/temp.xml", "/other.xml", 307)
    server.route("/other.xml", GOOD.replace("good.example/1", "good.example/3"))
    moved = await stack.add(server.url("/old.xml"))
    temp = await stack.add(server.url("/temp.xml"))
    summary = await stack.ingest.run_cycle(NOW)
    assert (summary.failed, summary.new_articles) == (0, 2)
    assert (await stack.feed(moved.id)).url == server.url("/good.xml")
    assert (await stack.feed(temp.id)).url == server.url("/temp.xml")
    await stack.ingest.run_cycle(NOW, only_due=False)
    assert server.hits["/old.xml"] == 1  # the next cycle went straight to the new address


async def test_gone_disables_the_feed(server: FeedServer, stack: Stack) -> None:
    server.route("/gone.xml", "", status=410)
    _, bad = await run_with_good(stack, server, "/gone.xml")
    feed = await stack.feed(bad)
    assert not feed.enabled
    assert feed.last_error == "HTTP 410 Gone: the feed was removed; feed disabled"
    assert bad not in [f.id for f in await stack.feeds.due(NOW + timedelta(days=30))]
    again = await stack.ingest.run_cycle(NOW, only_due=False)
    assert again.feeds_fetched == 1  # only the good feed
    assert server.hits["/gone.xml"] == 1


async def test_throttling_and_cache_hints_set_the_next_fetch(server: FeedServer, stack: Stack) -> None:
    server.route("/busy.xml", "", status=429, headers={"Retry-After": "1800"})
    server.route("/cached.xml", GOOD, headers={"Cache-Control": "public, max-age=900"})
    busy = await stack.add(server.url("/busy.xml"))
    cached = await stack.add(server.url("/cached.xml"))
    await stack.ingest.run_cycle(NOW)
    throttled = await stack.feed(busy.id)
    assert throttled.next_fetch_at == NOW + timedelta(seconds=1800)
    assert throttled.last_error == "HTTP 429, retry after 1800 s"
    assert (await stack.feed(cached.id)).next_fetch_at == NOW + timedelta(seconds=900)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ('<?xml version="1.0"?><rss version="2.0"><chan', "not a feed: <unknown>:1:"),
        ('<?xml version="1.0"?><sitemap><url>https://x.example/</url></sitemap>', "not a feed"),
        ("just some words, not XML at all", "not a feed"),
        ('{"version": "https://jsonfeed.org/version/1.1", "items": [', "malformed JSON"),
        (
            '<?xml version="1.0"?><!ENTITY x "y"><rss version="2.0"></rss>',
            "entity declarations are not allowed",
        ),
    ],
    ids=["truncated-xml", "other-xml", "text", "broken-json", "stray-entity"],
)
async def test_unparseable_feed_fails_with_the_reason(
    server: FeedServer, stack: Stack, body: str, reason: str
) -> None:
    server.route("/bad", body, content_type="application/xml" if body.startswith("<") else "text/plain")
    if "jsonfeed" in body:
        server.route("/bad", body, content_type="application/feed+json")
    summary, bad = await run_with_good(stack, server, "/bad")
    assert summary.failed == 1
    error = (await stack.feed(bad)).last_error
    assert error is not None
    assert reason in error
    assert "\n" not in error


async def test_xml_bombs_are_not_expanded_and_read_no_files(server: FeedServer, stack: Stack) -> None:
    laughs = "".join(
        f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' if i else '<!ENTITY l0 "lol">' for i in range(10)
    )
    billion = (
        f'<?xml version="1.0"?><!DOCTYPE rss [{laughs}]><rss version="2.0"><channel><title>B</title>'
        "<item><title>&l9;</title><link>https://bomb.example/1</link><description>d</description></item>"
        "</channel></rss>"
    )
    quadratic = (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "{"A" * 50_000}">]><rss version="2.0"><channel>'
        f"<title>Q</title><item><title>Q {'&a;' * 4000}</title><link>https://bomb.example/2</link>"
        "<description>d</description></item>"
        "</channel></rss>"
    )
    external = (
        '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">]><rss version="2.0">'
        "<channel><title>X</title><item><title>X &x;</title><link>https://bomb.example/3</link>"
        "<description>d</description></item></channel></rss>"
    )
    for i, body in enumerate((billion, quadratic, external)):
        server.route(f"/bomb{i}.xml", body)
        await stack.add(server.url(f"/bomb{i}.xml"))
    started = time.monotonic()
    await stack.ingest.run_cycle(NOW)
    assert time.monotonic() - started < 10
    rows = await stack.rows()
    assert len(rows) == 3
    for row in rows:
        assert len(row["headline"]) <= 300  # never the megabytes an expansion would give
        assert "lollol" not in row["headline"]
        assert "AAAA" not in row["headline"]
        assert "root:" not in row["headline"]


async def test_a_crash_while_storing_costs_one_feed(server: FeedServer, stack: Stack) -> None:
    store = stack.ingest.articles.store

    async def flaky(feed_id: int, articles: list[Article], **kwargs: Any) -> Any:
        if any("bomb" in a.url for a in articles):
            raise RuntimeError("disk on fire")
        return await store(feed_id, articles, **kwargs)

    stack.ingest.articles.store = flaky  # type: ignore[method-assign]
    server.route("/crash.xml", GOOD.replace("good.example", "bomb.example"))
    summary, bad = await run_with_good(stack, server, "/crash.xml")
    assert summary.failed == 1
    assert (await stack.feed(bad)).last_error == "internal error: RuntimeError"


async def test_parse_pool_recovers_when_a_worker_dies(tmp_path: Path) -> None:
    pool = ParsePool(1, timeout=30)
    try:
        body = GOOD.encode()
        first = await pool.digest(body, url="http://x/f", content_type=None, now=NOW)
        assert [a.headline for a in first.articles] == ["Still here"]
        executor = pool._executor
        assert executor is not None
        for process in list(executor._processes.values()):
            process.kill()
            process.join(5)
        with pytest.raises(FeedParseError, match="parser process died"):
            await pool.digest(body, url="http://x/f", content_type=None, now=NOW)
        again = await pool.digest(body, url="http://x/f", content_type=None, now=NOW)
        assert [a.headline for a in again.articles] == ["Still here"]
        with pytest.raises(FeedParseError, match="not a feed"):  # errors come back as values, intact
            await pool.digest(b"plain words", url="http://x/p", content_type="text/plain", now=NOW)
        page = await pool.digest(b"<!doctype html><p>hi</p>", url="http://x/p", content_type=None, now=NOW)
        assert page.kind == "html"
    finally:
        await pool.close()


async def test_feed_deadline_during_page_deks_leaves_no_page_fetch_running() -> None:
    started: list[str] = []

    class HangingPages:
        async def fetch(self, url: str, **_: Any) -> FetchResult:
            started.append(url)
            await asyncio.Event().wait()  # an article page that never answers
            raise AssertionError("unreachable")

    config = ReaderConfig(page_concurrency=2, page_budget=30.0)
    reader = FeedReader(HangingPages(), object(), None, config)  # type: ignore[arg-type]
    articles = [
        Article(
            guid=f"g{i}",
            url=f"https://slow.example/{i}",
            headline="H",
            dek="",
            published=None,
            needs_dek=True,
        )
        for i in range(3)
    ]
    before = asyncio.all_tasks()
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.2):  # ingest's per-feed deadline, far shorter than page_budget
            await reader.fill_deks(1, articles, use_known=False)
    assert len(started) == 2
    assert asyncio.all_tasks() <= before
    assert reader._pages._value == config.page_concurrency  # every page slot given back
