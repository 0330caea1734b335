"""The WebSub service over a real SQLite file, with a recording hub client and a clock it controls:
subscribing, confirming only what it asked for, renewing, expiring, denial, refusal, unsubscribing, and
the pushes it takes or ignores."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import structlog

from bot.adapters.db import Database
from bot.adapters.repo_feeds import FeedRepo
from bot.adapters.repo_websub import WebSubRepo
from bot.core.websub import sign
from bot.core.websub_plan import FIRST_RETRY, VERIFY_WAIT, push_note
from bot.services.websub import WebSubService
from bot.services.websub_ports import Verdict, WebSubConfig

NOW = datetime.now(UTC).replace(microsecond=0)  # "pushed" is judged by the database's own clock
PUBLIC = "https://bot.example/newsbot"
HUB = "https://hub.example/"
TOPIC = "https://news.example/feed/"
BODY = b'<rss version="2.0"><channel><title>x</title></channel></rss>'


@dataclass
class Answer:
    accepted: bool = True
    status: int | None = 202
    reason: str = "HTTP 202"


@dataclass
class FakeHub:
    answer: Answer = field(default_factory=Answer)
    requests: list[tuple[str, dict[str, str], str]] = field(default_factory=list)

    async def request(self, hub: str, fields: Mapping[str, str], *, origin: str) -> Answer:
        self.requests.append((hub, dict(fields), origin))
        return self.answer


@dataclass
class FakeIngest:
    pushed: list[tuple[int, bytes, str | None]] = field(default_factory=list)
    fetched: list[int] = field(default_factory=list)
    gate: asyncio.Event = field(default_factory=asyncio.Event)

    async def ingest_pushed(self, feed_id: int, body: bytes, *, content_type: str | None) -> int:
        await self.gate.wait()
        self.pushed.append((feed_id, body, content_type))
        return 1

    def fetch_soon(self, feed_id: int) -> None:
        self.fetched.append(feed_id)


class Clock:
    def __init__(self) -> None:
        self.now = NOW
        self.mono = 1000.0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta
        self.mono += delta.total_seconds()


@dataclass
class World:
    db: Database
    feeds: FeedRepo
    store: WebSubRepo
    hub: FakeHub
    ingest: FakeIngest
    clock: Clock
    websub: WebSubService

    async def advertise(
        self, url: str = "https://news.example/rss", hub: str = HUB, topic: str = TOPIC
    ) -> int:
        feed = await self.feeds.add(url, NOW)
        await self.db.execute_write(
            "UPDATE feeds SET websub_hub = ?, websub_topic = ?, synced = 1 WHERE id = ?",
            (hub, topic, feed.id),
        )
        return feed.id

    def last(self) -> dict[str, str]:
        return self.hub.requests[-1][1]

    async def confirm(
        self, mode: str = "subscribe", *, lease: str = "3600", topic: str = TOPIC
    ) -> str | None:
        token = self.last()["hub.callback"].rsplit("/", 1)[1]
        query = {"hub.mode": mode, "hub.topic": topic, "hub.challenge": "c-123", "hub.lease_seconds": lease}
        return await self.websub.verify(token, query)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with Database(tmp_path / "websub.db") as db:
        clock, hub, ingest = Clock(), FakeHub(), FakeIngest()
        store = WebSubRepo(db)
        websub = WebSubService(
            store, hub, ingest, WebSubConfig(PUBLIC, max_pending=2), now=clock, clock=lambda: clock.mono
        )
        yield World(db, FeedRepo(db), store, hub, ingest, clock, websub)
        ingest.gate.set()
        await websub.close()


async def test_a_feed_with_a_hub_is_subscribed_with_its_own_callback_and_secret(world: World) -> None:
    one = await world.advertise()
    two = await world.advertise("https://other.example/rss", topic="https://other.example/rss")
    await world.websub.reconcile()
    (hub, first, origin), (_, second, _) = world.hub.requests
    assert (hub, origin) == (HUB, "https://news.example/rss")  # asked on behalf of the feed itself
    assert first["hub.mode"] == "subscribe"
    assert first["hub.topic"] == TOPIC
    assert first["hub.lease_seconds"] == str(10 * 86_400)
    assert first["hub.callback"].startswith(f"{PUBLIC}/websub/")
    token = first["hub.callback"].rsplit("/", 1)[1]
    assert len(token) >= 32
    assert len(first["hub.secret"]) >= 32
    assert first["hub.callback"] != second["hub.callback"]
    assert first["hub.secret"] != second["hub.secret"]
    feed = await world.feeds.get(one)
    assert feed is not None
    assert (feed.push, feed.pushed) == ("requested", False)
    assert push_note(feed.push, feed.push_error) == "WebSub: waiting for the hub to confirm; polled"
    await world.websub.reconcile()
    assert len(world.hub.requests) == 2  # asked once, not on every reconcile
    assert two != one


async def test_only_the_subscription_asked_for_is_confirmed(world: World) -> None:
    feed_id = await world.advertise()
    await world.websub.reconcile()
    token = world.last()["hub.callback"].rsplit("/", 1)[1]
    assert await world.confirm(topic="https://news.example/other/") is None  # another topic
    assert await world.confirm("unsubscribe") is None  # the bot never asked to leave
    assert await world.websub.verify("no-such-token", {"hub.mode": "subscribe", "hub.topic": TOPIC}) is None
    assert (
        await world.websub.verify(token, {"hub.mode": "subscribe", "hub.topic": TOPIC}) is None
    )  # no challenge
    assert await world.confirm(lease="7200") == "c-123"
    feed = await world.feeds.get(feed_id)
    assert feed is not None
    assert feed.pushed
    sub = await world.store.by_token(token)
    assert sub is not None
    assert (sub.state, sub.lease_seconds, sub.expires_at) == ("verified", 7200, NOW + timedelta(hours=2))


async def test_renewed_before_the_lease_ends_and_expired_when_the_hub_never_confirms(world: World) -> None:
    feed_id = await world.advertise()
    await world.websub.reconcile()
    first = world.last()
    await world.confirm(lease="3600")
    world.clock.advance(timedelta(minutes=44))
    await world.websub.reconcile()
    assert len(world.hub.requests) == 1
    world.clock.advance(timedelta(minutes=1))  # 3/4 of the lease
    await world.websub.reconcile()
    assert len(world.hub.requests) == 2
    renewal = world.last()
    assert (renewal["hub.callback"], renewal["hub.secret"]) == (first["hub.callback"], first["hub.secret"])
    # the hub never confirms the renewal: asked again, then the lease ends and the feed is read at once
    world.clock.advance(VERIFY_WAIT)
    await world.websub.reconcile()
    assert len(world.hub.requests) == 3
    world.clock.advance(timedelta(minutes=6))
    await world.websub.reconcile()
    feed = await world.feeds.get(feed_id)
    assert feed is not None
    assert feed.push == "failed"
    assert world.ingest.fetched == [feed_id]
    assert push_note(feed.push, feed.push_error) == (
        "WebSub failed: the lease ended before the hub confirmed a renewal; polled"
    )


async def test_a_denial_and_a_refusal_fall_back_to_polling_and_are_retried(world: World) -> None:
    feed_id = await world.advertise()
    await world.websub.reconcile()
    token = world.last()["hub.callback"].rsplit("/", 1)[1]
    assert await world.websub.verify(token, {"hub.mode": "denied", "hub.topic": "https://x/"}) is None
    assert (
        await world.websub.verify(token, {"hub.mode": "denied", "hub.topic": TOPIC, "hub.reason": "no"}) == ""
    )
    feed = await world.feeds.get(feed_id)
    assert feed is not None
    assert (feed.push, push_note(feed.push, feed.push_error)) == (
        "denied",
        "WebSub denied: denied by the hub: no; polled",
    )
    world.clock.advance(timedelta(hours=23))
    await world.websub.reconcile()
    assert len(world.hub.requests) == 1
    world.hub.answer = Answer(False, 400, "the hub answered HTTP 400: unknown topic")
    world.clock.advance(timedelta(hours=1))
    await world.websub.reconcile()
    assert len(world.hub.requests) == 2
    feed = await world.feeds.get(feed_id)
    assert feed is not None
    assert feed.push == "failed"
    assert feed.push_error == "the hub answered HTTP 400: unknown topic"
    world.hub.answer = Answer()
    world.clock.advance(FIRST_RETRY * 2)
    await world.websub.reconcile()
    assert len(world.hub.requests) == 3
    assert await world.confirm() == "c-123"  # confirmed at last


async def test_a_request_the_hub_never_confirms_is_given_up_and_retried(world: World) -> None:
    feed_id = await world.advertise()
    await world.websub.reconcile()
    world.clock.advance(VERIFY_WAIT)
    await world.websub.reconcile()
    feed = await world.feeds.get(feed_id)
    assert feed is not None
    assert feed.push == "failed"
    assert "did not confirm within 10 min" in (feed.push_error or "")
    world.clock.advance(FIRST_RETRY)
    await world.websub.reconcile()
    assert [r[1]["hub.mode"] for r in world.hub.requests] == ["subscribe", "subscribe"]


async def test_removing_a_feed_unsubscribes_and_its_callback_is_then_unknown(world: World) -> None:
    feed_id = await world.advertise()
    await world.websub.reconcile()
    await world.confirm()
    token = world.last()["hub.callback"].rsplit("/", 1)[1]
    assert await world.feeds.remove(feed_id)
    await world.websub.reconcile()
    leave = world.last()
    assert (leave["hub.mode"], leave["hub.topic"]) == ("unsubscribe", TOPIC)
    assert "hub.secret" not in leave
    assert await world.confirm("subscribe") is None  # leaving: no longer confirmed
    # pushes meanwhile: signed ones are told the subscription is gone
    secret = world.hub.requests[0][1]["hub.secret"]
    gone = await world.websub.receive(token, BODY, content_type=None, signature=sign(secret, BODY))
    assert gone is Verdict.GONE
    assert await world.confirm("unsubscribe") == "c-123"
    assert await world.store.all() == []
    assert not await world.websub.known(token)
    unknown = await world.websub.receive(token, BODY, content_type=None, signature=sign(secret, BODY))
    assert unknown is Verdict.UNKNOWN


async def test_an_unsubscribe_the_hub_does_not_know_is_dropped(world: World) -> None:
    feed_id = await world.advertise()
    await world.websub.reconcile()
    await world.confirm()
    await world.feeds.set_enabled(feed_id, False)
    world.hub.answer = Answer(False, 404, "the hub answered HTTP 404: no such subscription")
    await world.websub.reconcile()
    assert world.last()["hub.mode"] == "unsubscribe"
    assert await world.store.all() == []


async def test_signed_pushes_are_ingested_and_others_ignored_and_logged_once(world: World) -> None:
    feed_id = await world.advertise()
    await world.websub.reconcile()
    await world.confirm()
    token = world.last()["hub.callback"].rsplit("/", 1)[1]
    secret = world.hub.requests[0][1]["hub.secret"]
    with structlog.testing.capture_logs() as logs:
        for header in (None, "sha256=" + "0" * 64, sign("not-the-secret", BODY), "md5=abc", "garbage"):
            verdict = await world.websub.receive(
                token, BODY, content_type="application/rss+xml", signature=header
            )
            assert verdict is Verdict.IGNORED
            assert verdict.status == 202
    ignored = [entry for entry in logs if entry["event"] == "websub_push_ignored"]
    assert len(ignored) == 1  # a flood logs once a minute
    assert ignored[0]["signature"] == "missing"
    for method in ("sha1", "sha256", "sha384", "sha512"):
        verdict = await world.websub.receive(
            token, BODY, content_type="application/rss+xml", signature=sign(secret, BODY, method)
        )
        assert verdict is Verdict.ACCEPTED
    world.ingest.gate.set()
    await asyncio.sleep(0.05)
    assert world.ingest.pushed == [(feed_id, BODY, "application/rss+xml")] * 2
    # the other two found two pushes waiting: the feed is read in full instead
    assert world.ingest.fetched == [feed_id, feed_id]
    sub = await world.store.by_token(token)
    assert sub is not None
    assert sub.last_push_at == NOW


async def test_a_changed_public_url_or_hub_moves_the_subscription(world: World) -> None:
    feed_id = await world.advertise()
    await world.websub.reconcile()
    await world.confirm()
    await world.db.execute_write(
        "UPDATE feeds SET websub_hub = 'https://newhub.example/' WHERE id = ?", (feed_id,)
    )
    await world.websub.reconcile()
    modes = [(r[0], r[1]["hub.mode"]) for r in world.hub.requests[1:]]
    assert modes == [(HUB, "unsubscribe"), ("https://newhub.example/", "subscribe")]
