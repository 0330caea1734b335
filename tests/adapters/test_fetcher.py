"""The fetcher against a real loopback HTTP server: validators, caps, timeouts, redirects, errors, limits."""

from __future__ import annotations

import asyncio
import gzip
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from bot.adapters.fetch_limits import HostLimiter, host_key
from bot.adapters.fetcher import Fetcher, make_client, non_public_url
from bot.adapters.host_pools import HostPoolTransport
from bot.core.errors import FetchError
from bot.core.fetching import PAGE_ACCEPT, USER_AGENT, ThrottledError
from tests.kits.feedserver import HTML_TYPE, FeedServer

RSS = b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title></channel></rss>'


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    async with FeedServer() as srv:
        yield srv


@pytest.fixture
async def fetcher() -> AsyncIterator[Fetcher]:
    client = make_client(timeout=5, per_host=2)
    try:
        yield Fetcher(client, timeout=5, max_bytes=64 * 1024, concurrency=4, per_host=2)
    finally:
        await client.aclose()


async def test_plain_get_sends_user_agent_and_returns_validators(
    server: FeedServer, fetcher: Fetcher
) -> None:
    server.route(
        "/feed", RSS, etag='"abc"', last_modified="Wed, 01 May 2024 10:00:00 GMT",
        headers={"Cache-Control": "public, max-age=600"},
    )  # fmt: skip
    result = await fetcher.fetch(server.url("/feed"))
    assert result.status == 200
    assert result.body == RSS
    assert not result.not_modified
    assert result.etag == '"abc"'
    assert result.last_modified == "Wed, 01 May 2024 10:00:00 GMT"
    assert result.content_type is not None
    assert result.content_type.startswith("application/rss+xml")
    assert result.max_age == 600
    assert result.final_url == result.url == server.url("/feed")
    assert not result.permanent_redirect
    seen = server.requests_to("/feed")[0].headers
    assert seen["User-Agent"] == USER_AGENT
    assert "If-None-Match" not in seen
    assert "If-Modified-Since" not in seen
    assert "gzip" in seen["Accept-Encoding"]
    assert "application/rss+xml" in seen["Accept"]


async def test_the_link_header_is_kept_for_websub_discovery(server: FeedServer, fetcher: Fetcher) -> None:
    link = '<https://hub.example/>; rel="hub", <https://news.example/feed/>; rel="self"'
    server.route("/pushed", RSS, headers={"Link": link})
    server.route("/plain", RSS)
    assert (await fetcher.fetch(server.url("/pushed"))).link == link
    assert (await fetcher.fetch(server.url("/plain"))).link is None


async def test_conditional_get_returns_304_without_body(server: FeedServer, fetcher: Fetcher) -> None:
    server.route("/etag", RSS, etag='"v1"')
    server.route("/lm", RSS, last_modified="Wed, 01 May 2024 10:00:00 GMT")
    by_etag = await fetcher.fetch(server.url("/etag"), etag='"v1"')
    assert by_etag.not_modified
    assert by_etag.body == b""
    assert server.requests_to("/etag")[0].headers["If-None-Match"] == '"v1"'
    changed = await fetcher.fetch(server.url("/etag"), etag='"v0"')
    assert changed.status == 200
    assert changed.body == RSS
    by_date = await fetcher.fetch(server.url("/lm"), last_modified="Wed, 01 May 2024 10:00:00 GMT")
    assert by_date.not_modified
    assert server.requests_to("/lm")[0].headers["If-Modified-Since"] == "Wed, 01 May 2024 10:00:00 GMT"
    # a garbled stored validator is not sent (it would break the request line)
    await fetcher.fetch(server.url("/etag"), etag='"v1"\r\nX-Evil: 1')
    assert "If-None-Match" not in server.requests_to("/etag")[-1].headers


async def test_gzip_is_decoded(server: FeedServer, fetcher: Fetcher) -> None:
    server.route("/gz", RSS, gzip=True)
    assert (await fetcher.fetch(server.url("/gz"))).body == RSS


async def test_total_timeout(server: FeedServer) -> None:
    server.route("/slow", RSS, delay=10)
    client = make_client(timeout=0.3, per_host=2)
    try:
        started = time.monotonic()
        with pytest.raises(FetchError, match=r"timed out after 0\.3 s"):
            await Fetcher(client, timeout=0.3).fetch(server.url("/slow"))
        assert time.monotonic() - started < 2
    finally:
        await client.aclose()


async def test_declared_oversized_body_is_refused(server: FeedServer, fetcher: Fetcher) -> None:
    server.route("/big", b"x" * (200 * 1024))
    with pytest.raises(FetchError, match="response larger than 64 KiB") as info:
        await fetcher.fetch(server.url("/big"))
    assert info.value.status == 200


async def test_streamed_oversized_body_stops_at_the_cap(server: FeedServer, fetcher: Fetcher) -> None:
    server.route("/endless", b"<item>", stream_bytes=50 * 1024 * 1024)
    started = time.monotonic()
    with pytest.raises(FetchError, match="response larger than 64 KiB"):
        await fetcher.fetch(server.url("/endless"))
    assert time.monotonic() - started < 3  # did not read 50 MiB
    cut = await fetcher.fetch(server.url("/endless"), truncate=True)
    assert len(cut.body) == 64 * 1024
    assert cut.truncated
    smaller = await fetcher.fetch(server.url("/endless"), truncate=True, max_bytes=1000)
    assert len(smaller.body) == 1000
    assert smaller.truncated


async def test_gzip_bomb_is_capped_on_decoded_size(server: FeedServer, fetcher: Fetcher) -> None:
    bomb = gzip.compress(b"\0" * (20 * 1024 * 1024))
    assert len(bomb) < 64 * 1024
    server.route("/bomb", bomb, headers={"Content-Encoding": "gzip"})
    with pytest.raises(FetchError, match="response larger than 64 KiB"):
        await fetcher.fetch(server.url("/bomb"))


async def test_redirects_permanent_and_temporary(server: FeedServer, fetcher: Fetcher) -> None:
    server.route("/new", RSS)
    server.redirect("/moved", "/new", 301)
    server.redirect("/moved308", server.url("/new"), 308)
    server.redirect("/temp", "/new", 302)
    server.redirect("/mixed", "/moved", 307)
    moved = await fetcher.fetch(server.url("/moved"))
    assert moved.body == RSS
    assert moved.final_url == server.url("/new")
    assert moved.permanent_redirect
    assert (await fetcher.fetch(server.url("/moved308"))).permanent_redirect
    temp = await fetcher.fetch(server.url("/temp"))
    assert temp.final_url == server.url("/new")
    assert not temp.permanent_redirect
    assert not (await fetcher.fetch(server.url("/mixed"))).permanent_redirect


async def test_redirect_limits(server: FeedServer, fetcher: Fetcher) -> None:
    server.route("/end", RSS)
    for i in range(6):
        server.redirect(f"/r{i}", f"/r{i + 1}" if i < 5 else "/end", 302)
    assert (await fetcher.fetch(server.url("/r1"))).body == RSS  # five redirects are fine
    with pytest.raises(FetchError, match="too many redirects"):
        await fetcher.fetch(server.url("/r0"))  # six are not
    server.redirect("/a", "/b")
    server.redirect("/b", "/a")
    with pytest.raises(FetchError, match="redirect loop"):
        await fetcher.fetch(server.url("/a"))
    server.route("/nowhere", status=302, content_type=None)
    with pytest.raises(FetchError, match="without a Location"):
        await fetcher.fetch(server.url("/nowhere"))


async def test_only_http_and_https(server: FeedServer, fetcher: Fetcher) -> None:
    with pytest.raises(FetchError, match="only http and https"):
        await fetcher.fetch("file:///etc/passwd")
    with pytest.raises(FetchError, match="not an http"):
        await fetcher.fetch("example.com/feed")
    server.redirect("/sneaky", "file:///etc/passwd", 302)
    with pytest.raises(FetchError, match="redirect to file://"):
        await fetcher.fetch(server.url("/sneaky"))
    assert server.hits["/sneaky"] == 1


async def test_http_errors_are_one_line(server: FeedServer, fetcher: Fetcher) -> None:
    server.route("/err", b"oops", status=500)
    server.route("/gone", b"", status=410)
    server.route("/slowdown", b"", status=429, headers={"Retry-After": "30"})
    server.route("/down", b"", status=503)
    with pytest.raises(FetchError) as err:
        await fetcher.fetch(server.url("/err"))
    assert err.value.reason == "HTTP 500 Internal Server Error"
    assert err.value.status == 500
    assert not err.value.permanent
    with pytest.raises(FetchError) as gone:
        await fetcher.fetch(server.url("/gone"))
    assert gone.value.permanent
    assert gone.value.status == 410
    with pytest.raises(ThrottledError) as throttled:
        await fetcher.fetch(server.url("/slowdown"))
    assert throttled.value.retry_after == 30
    assert "retry after 30 s" in throttled.value.reason
    with pytest.raises(ThrottledError) as down:
        await fetcher.fetch(server.url("/down"))
    assert down.value.retry_after is None
    assert down.value.status == 503
    for exc in (err.value, gone.value, throttled.value, down.value):
        assert "\n" not in str(exc)


async def test_connection_refused(fetcher: Fetcher) -> None:
    with pytest.raises(FetchError, match="cannot connect"):
        await fetcher.fetch("http://127.0.0.1:9/feed")


async def test_concurrency_is_bounded_overall_and_per_host() -> None:
    async with FeedServer() as one, FeedServer() as two:
        for srv in (one, two):
            srv.route("/slow", RSS, delay=0.1)
        client = make_client(timeout=5, per_host=2)
        try:
            fetcher = Fetcher(client, timeout=5, concurrency=3, per_host=2)
            urls = [one.url("/slow")] * 6 + [two.url("/slow")] * 6
            results = await asyncio.gather(*(fetcher.fetch(u) for u in urls))
        finally:
            await client.aclose()
        assert all(r.body == RSS for r in results)
        assert one.peak_active == 2
        assert two.peak_active == 2
        assert fetcher.limiter.peak == 3
        assert fetcher.limiter.busy_hosts() == 0


async def test_html_page_accept_header(server: FeedServer, fetcher: Fetcher) -> None:
    server.route("/page", "<html><head><title>x</title></head></html>", content_type=HTML_TYPE)

    page = await fetcher.fetch(server.url("/page"), accept=PAGE_ACCEPT)
    assert page.content_type == HTML_TYPE
    assert server.requests_to("/page")[0].headers["Accept"].startswith("text/html")


def test_host_key_and_limiter_arguments() -> None:
    assert host_key("https://Example.com/feed") == "example.com:443"
    assert host_key("http://example.com:8080/x") == "example.com:8080"
    assert host_key("http://example.com/x") == "example.com:80"
    with pytest.raises(ValueError, match="at least 1"):
        HostLimiter(0, 1)


async def test_one_pool_per_origin_idle_ones_closed_busy_ones_kept() -> None:
    async with FeedServer() as a, FeedServer() as b, FeedServer() as c:
        for srv in (a, b, c):
            srv.route("/f", RSS)
        a.route("/slow", RSS, delay=0.5)
        transport = HostPoolTransport(per_host=2, max_origins=2)
        client = httpx.AsyncClient(transport=transport)
        try:
            fetcher = Fetcher(client, timeout=5)
            slow = asyncio.create_task(fetcher.fetch(a.url("/slow")))
            await asyncio.sleep(0.1)  # a's request is in flight
            for srv in (b, c):
                assert (await fetcher.fetch(srv.url("/f"))).body == RSS
            assert transport.origins() == 2  # b's idle pool made room for c; a's busy one stayed
            assert (await slow).body == RSS
            for _ in range(3):
                await fetcher.fetch(c.url("/f"))
            ports = {r.client_port for r in c.requests_to("/f")}
            assert len(ports) == 1  # one keep-alive connection served all four requests
        finally:
            await client.aclose()
        assert transport.origins() == 0


async def test_304s_and_redirects_keep_the_connection(server: FeedServer, fetcher: Fetcher) -> None:
    server.route("/feed", RSS, etag='"v1"')
    server.redirect("/old", "/feed", 301)
    for _ in range(3):
        assert (await fetcher.fetch(server.url("/feed"), etag='"v1"')).not_modified
        assert (await fetcher.fetch(server.url("/old"), etag='"v1"')).not_modified
    assert len({r.client_port for r in server.requests}) == 1  # a warm cycle opens no new connections


async def test_non_public_url_decision() -> None:
    assert await non_public_url("http://127.0.0.1:8080/feed")
    assert await non_public_url("http://localhost/feed")
    assert await non_public_url("http://[::1]/feed")
    assert await non_public_url("https://10.1.2.3/feed")
    assert await non_public_url("http://169.254.169.254/latest/meta-data/")
    assert await non_public_url("http://printer.local/")
    assert not await non_public_url("https://93.184.216.34/feed")
    assert not await non_public_url("https://[2606:4700::1111]/feed")
