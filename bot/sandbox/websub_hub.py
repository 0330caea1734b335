"""A local WebSub hub (W3C WebSub §5-7) for the sandbox and the tests, strict where subscribers go wrong.

`POST {hub}` with a form body:
- `hub.mode=subscribe|unsubscribe`, `hub.callback`, `hub.topic` (absolute http(s) URLs, no fragment),
  optional `hub.lease_seconds` and `hub.secret` (under 200 bytes): 400 with a reason when malformed, else
  202 Accepted, then intent is verified with a GET to the callback (its own query kept, `hub.mode`,
  `hub.topic`, `hub.challenge`, and for subscribe `hub.lease_seconds`). Only a 2xx whose body is exactly the
  challenge counts; anything else and the request is dropped. The lease is the asked one capped at
  `max_lease` (default `default_lease`); a subscription past its lease gets nothing. A topic in `deny`
  is refused with a `hub.mode=denied` GET instead.
- `hub.mode=publish` with `hub.url` (or `hub.topic`), the common form: 202, then the topic is fetched and
  POSTed to each subscriber in its lease, with the topic's Content-Type, `Link: <hub>; rel="hub",
  <topic>; rel="self"` and, when the subscriber gave a secret, `X-Hub-Signature: sha256=<HMAC>`. A 410
  answer ends the subscription; other failures are retried twice.

Everything it does is appended to `events`, for tests and the sandbox page; `wait_for` waits on them.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import aiohttp
import structlog
from aiohttp import web

from bot.core.websub import sign
from bot.sandbox.outbound import Outbound

log = structlog.get_logger(__name__)

RETRIES = (0.5, 2.0)  # seconds before the second and third delivery attempts
FORM = "application/x-www-form-urlencoded"


@dataclass
class HubSubscription:
    topic: str
    callback: str
    secret: str | None
    lease_seconds: int
    expires_at: float  # time.monotonic()


@dataclass(frozen=True, slots=True)
class HubEvent:
    kind: str  # subscribed, unsubscribed, verify_failed, denied, published, delivered, delivery_failed
    topic: str
    callback: str = ""
    detail: str = ""


@dataclass
class LocalHub:
    default_lease: int = 3600
    max_lease: int = 86_400
    timeout: float = 5.0
    deny: set[str] = field(default_factory=set)  # topics whose subscriptions are denied
    url: str = ""  # where the hub is reachable (set by `serve` or the sandbox)
    subscriptions: dict[tuple[str, str], HubSubscription] = field(default_factory=dict)
    events: list[HubEvent] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._out = Outbound(timeout=self.timeout)
        self._changed = asyncio.Event()

    # -- observing -----------------------------------------------------------------------------------------

    def active(self, topic: str) -> list[HubSubscription]:
        now = time.monotonic()
        return [s for (t, _), s in self.subscriptions.items() if t == topic and s.expires_at > now]

    def kinds(self, kind: str) -> list[HubEvent]:
        return [e for e in self.events if e.kind == kind]

    async def wait_for(self, check: Callable[[], bool], *, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        async with asyncio.timeout(timeout):
            while not check():
                self._changed.clear()
                await self._changed.wait()

    def _note(self, kind: str, topic: str, callback: str = "", detail: str = "") -> None:
        self.events.append(HubEvent(kind, topic, callback, detail))
        log.info("hub_" + kind, topic=topic, callback=callback, detail=detail)
        self._changed.set()

    # -- HTTP ------------------------------------------------------------------------------------------------

    def routes(self, path: str = "/hub") -> list[web.RouteDef]:
        return [web.post(path, self._handle)]

    async def _handle(self, request: web.Request) -> web.Response:
        if request.content_type != FORM:
            return web.Response(status=400, text=f"the hub takes {FORM} bodies")
        form = await request.post()
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        mode = fields.get("hub.mode", "")
        if mode == "publish":
            topic = fields.get("hub.url") or fields.get("hub.topic") or ""
            if not _absolute(topic):
                return web.Response(status=400, text="publish needs hub.url, an absolute http(s) URL")
            self._spawn(self._publish(topic))
            return web.Response(status=202)
        if mode not in ("subscribe", "unsubscribe"):
            return web.Response(status=400, text="hub.mode must be subscribe, unsubscribe or publish")
        callback, topic = fields.get("hub.callback", ""), fields.get("hub.topic", "")
        if not _absolute(callback) or not _absolute(topic):
            return web.Response(status=400, text="hub.callback and hub.topic must be absolute http(s) URLs")
        secret = fields.get("hub.secret")
        if secret is not None and (not secret or len(secret.encode()) >= 200):
            return web.Response(status=400, text="hub.secret must be 1 to 199 bytes")
        lease = self.default_lease
        if (asked := fields.get("hub.lease_seconds")) is not None:
            if not asked.isdigit() or int(asked) <= 0:
                return web.Response(status=400, text="hub.lease_seconds must be a positive integer")
            lease = int(asked)
        lease = min(lease, self.max_lease)
        self._spawn(self._verify(mode, topic, callback, secret, lease))
        return web.Response(status=202)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        self._out.spawn(work)

    @property
    def session(self) -> aiohttp.ClientSession:
        return self._out.session

    async def _verify(self, mode: str, topic: str, callback: str, secret: str | None, lease: int) -> None:
        if mode == "subscribe" and topic in self.deny:
            await self.deny_subscription(topic, callback, "this topic takes no subscribers here")
            return
        challenge = secrets.token_urlsafe(18)
        query = {"hub.mode": mode, "hub.topic": topic, "hub.challenge": challenge}
        if mode == "subscribe":
            query["hub.lease_seconds"] = str(lease)
        try:
            async with self.session.get(_with_query(callback, query)) as response:
                body = await response.text()
                ok = 200 <= response.status < 300 and body == challenge
                detail = f"HTTP {response.status}" + ("" if ok else f", body {body[:60]!r}")
        except (aiohttp.ClientError, TimeoutError) as exc:
            ok, detail = False, f"callback unreachable: {exc!r}"[:200]
        if not ok:
            self._note("verify_failed", topic, callback, f"{mode}: {detail}")
            return
        if mode == "unsubscribe":
            self.subscriptions.pop((topic, callback), None)
            self._note("unsubscribed", topic, callback)
            return
        expires = time.monotonic() + lease
        self.subscriptions[(topic, callback)] = HubSubscription(topic, callback, secret, lease, expires)
        self._note("subscribed", topic, callback, f"lease {lease} s")

    async def deny_subscription(self, topic: str, callback: str, reason: str) -> None:
        """Refuse (or end) a subscription: a `hub.mode=denied` GET to its callback."""
        self.subscriptions.pop((topic, callback), None)
        query = {"hub.mode": "denied", "hub.topic": topic, "hub.reason": reason}
        try:
            async with self.session.get(_with_query(callback, query)) as response:
                detail = f"HTTP {response.status}"
        except (aiohttp.ClientError, TimeoutError) as exc:
            detail = f"callback unreachable: {exc!r}"[:200]
        self._note("denied", topic, callback, detail)

    async def publish(self, topic: str) -> None:
        """What a publisher's `hub.mode=publish` does, awaited: fetch the topic, deliver it."""
        await self._publish(topic)

    async def _publish(self, topic: str) -> None:
        try:
            async with self.session.get(topic) as response:
                if response.status != 200:
                    self._note("publish_failed", topic, detail=f"topic answered HTTP {response.status}")
                    return
                body = await response.read()
                content_type = response.headers.get("Content-Type", "application/octet-stream")
        except (aiohttp.ClientError, TimeoutError) as exc:
            self._note("publish_failed", topic, detail=f"topic unreachable: {exc!r}"[:200])
            return
        targets = self.active(topic)
        self._note("published", topic, detail=f"{len(body)} bytes to {len(targets)} subscriber(s)")
        await asyncio.gather(*(self._deliver(sub, body, content_type) for sub in targets))

    async def _deliver(self, sub: HubSubscription, body: bytes, content_type: str) -> None:
        headers = {
            "Content-Type": content_type,
            "Link": f'<{self.url}>; rel="hub", <{sub.topic}>; rel="self"',
        }
        if sub.secret:
            headers["X-Hub-Signature"] = sign(sub.secret, body, "sha256")
        outcome = "not sent"
        for attempt, pause in enumerate((0.0, *RETRIES)):
            await asyncio.sleep(pause)
            try:
                async with self.session.post(sub.callback, data=body, headers=headers) as response:
                    status = response.status
            except (aiohttp.ClientError, TimeoutError) as exc:
                outcome = f"unreachable: {exc!r}"[:120]
                continue
            outcome = f"HTTP {status}"
            if status == 410:
                self.subscriptions.pop((sub.topic, sub.callback), None)
                self._note("delivery_failed", sub.topic, sub.callback, "HTTP 410: subscription ended")
                return
            if 200 <= status < 300:
                self._note("delivered", sub.topic, sub.callback, f"HTTP {status}, attempt {attempt + 1}")
                return
        self._note("delivery_failed", sub.topic, sub.callback, f"gave up: {outcome}")

    async def close(self) -> None:
        await self._out.close()


def _absolute(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname) and not parts.fragment


def _with_query(url: str, params: dict[str, str]) -> str:
    """`url` with `params` added to whatever query it already has (the spec: keep the callback's own)."""
    return f"{url}{'&' if urlsplit(url).query else '?'}{urlencode(params)}"


@asynccontextmanager
async def serve_hub(hub: LocalHub | None = None, *, path: str = "/hub") -> AsyncIterator[LocalHub]:
    """The hub alone on a free loopback port (for tests); `hub.url` says where."""
    hub = hub or LocalHub()
    app = web.Application()
    app.add_routes(hub.routes(path))
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    hub.url = f"http://127.0.0.1:{port}{path}"
    try:
        yield hub
    finally:
        await hub.close()
        await runner.cleanup()
