"""The private-address rule on the address actually connected to: names resolved once by a resolver the
test controls, 127.0.0.2 playing a public address and 127.0.0.1 the bot's own machine."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from bot.adapters.fetcher import Fetcher, make_client
from bot.core.errors import FetchError
from tests.kits.feedserver import FeedServer

RSS = b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title></channel></rss>'
PUBLIC, PRIVATE = "127.0.0.2", "127.0.0.1"


def blocked(address: str) -> bool:
    return address != PUBLIC


class Resolver:
    """Answers from a table; a list of answers is used in turn (a rebinding name server)."""

    def __init__(self, table: dict[str, list[list[str]]]) -> None:
        self.table = table
        self.calls: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append(host)
        answers = self.table[host]
        return answers.pop(0) if len(answers) > 1 else answers[0]


@pytest.fixture
async def servers() -> AsyncIterator[tuple[FeedServer, FeedServer]]:
    async with FeedServer(PUBLIC) as public, FeedServer(PRIVATE) as private:
        for server in (public, private):
            server.route("/feed", RSS)
        yield public, private


def strict(
    resolver: Resolver, trusted_hosts: frozenset[str] = frozenset()
) -> tuple[Fetcher, Callable[[], Awaitable[None]]]:
    client = make_client(timeout=5, per_host=2, resolve=resolver, blocked=blocked)
    return Fetcher(client, timeout=5, allow_private=False, trusted_hosts=trusted_hosts), client.aclose


async def test_a_name_that_rebinds_to_a_private_address_is_refused_at_connect(
    servers: tuple[FeedServer, FeedServer],
) -> None:
    public, private = servers
    public.route("/feed", RSS, headers={"Connection": "close"})  # each fetch opens a new connection
    resolver = Resolver({"news.test": [[PUBLIC], [PRIVATE]]})
    fetcher, close = strict(resolver)
    try:
        assert (await fetcher.fetch(f"http://news.test:{public.port}/feed")).body == RSS
        with pytest.raises(FetchError) as caught:
            await fetcher.fetch(f"http://news.test:{private.port}/feed")
    finally:
        await close()
    reason = caught.value.reason
    assert reason == "connection to news.test (it resolves to 127.0.0.1) refused: a private or local address"
    assert "\n" not in str(caught.value)
    assert private.requests == []  # nothing reached the private address
    assert public.requests_to("/feed")[0].headers["Host"] == f"news.test:{public.port}"


async def test_one_lookup_per_connection_and_keep_alive_kept(servers: tuple[FeedServer, FeedServer]) -> None:
    public, _ = servers
    resolver = Resolver({"news.test": [[PUBLIC]]})
    fetcher, close = strict(resolver)
    try:
        for _ in range(5):
            assert (await fetcher.fetch(f"http://news.test:{public.port}/feed")).status == 200
    finally:
        await close()
    assert resolver.calls == ["news.test"]
    assert len({r.client_port for r in public.requests}) == 1


async def test_redirects_and_page_fetches_from_a_public_start_stay_public(
    servers: tuple[FeedServer, FeedServer],
) -> None:
    public, private = servers
    public.redirect("/hop", f"http://intranet.test:{private.port}/feed", 302)
    public.redirect("/ok", f"http://news.test:{public.port}/feed", 302)
    resolver = Resolver(
        {"news.test": [[PUBLIC]], "intranet.test": [[PRIVATE]], "mixed.test": [[PUBLIC, PRIVATE]]}
    )
    fetcher, close = strict(resolver)
    try:
        with pytest.raises(FetchError, match=r"intranet\.test \(it resolves to 127\.0\.0\.1\) refused"):
            await fetcher.fetch(f"http://news.test:{public.port}/hop")
        assert (await fetcher.fetch(f"http://news.test:{public.port}/ok")).body == RSS
        with pytest.raises(FetchError, match="refused"):  # an article link to the bot's own machine
            await fetcher.fetch(
                f"http://{PRIVATE}:{private.port}/feed", origin=f"http://news.test:{public.port}/"
            )
        with pytest.raises(FetchError, match=r"mixed\.test \(it resolves to 127\.0\.0\.1\) refused"):
            await fetcher.fetch(f"http://mixed.test:{public.port}/feed")
        with pytest.raises(FetchError, match=r"connection to printer\.local refused: a local name"):
            await fetcher.fetch(
                f"http://printer.local:{public.port}/x", origin=f"http://news.test:{public.port}/"
            )
    finally:
        await close()
    assert private.requests == []


async def test_feeds_the_operator_wrote_down_may_be_private(servers: tuple[FeedServer, FeedServer]) -> None:
    public, private = servers
    private.redirect("/hop", public.url("/feed"), 302)
    resolver = Resolver({"news.test": [[PUBLIC]]})
    fetcher, close = strict(resolver, trusted_hosts=frozenset({"nas.corp.test"}))
    try:
        assert (await fetcher.fetch(private.url("/feed"))).body == RSS  # an IP literal: FEEDS or the shell
        assert (await fetcher.fetch(private.url("/hop"))).body == RSS  # and its redirects
        assert (await fetcher.fetch(f"http://localhost:{private.port}/feed")).body == RSS  # a local name
        assert fetcher.trusted("https://NAS.corp.test./feed")  # a host in FEEDS (split-horizon DNS)
        assert not fetcher.trusted("https://news.test/feed")
        assert fetcher.trusted("http://intranet/feed")  # a name without a dot is a local name
        lax_client = make_client(timeout=5, per_host=2, resolve=resolver, blocked=blocked)
        lax = Fetcher(lax_client, timeout=5, allow_private=True)
        try:
            assert (await lax.fetch(f"http://localhost:{private.port}/feed")).body == RSS
        finally:
            await lax_client.aclose()
    finally:
        await close()
