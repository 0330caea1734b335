"""The WebSub subscriber: subscribes to the hubs feeds advertise, answers the hubs, and takes their pushes.

Ingest discovers each feed's hub and topic (stored on the feed); this service, in the bot process beside
the HTTP server, keeps one subscription per such feed: `reconcile` asks `bot.core.websub_plan.plan` what
to do (subscribe, renew, retry, give up, unsubscribe, drop) and does it, then sleeps until the next thing
is due (at most `reconcile_every`), or until `wake` (a hub discovered, a feed removed). Each subscription
has its own callback, `{PUBLIC_URL}/websub/<token>` with a random token, and its own random secret.

The hub's verification GET is confirmed (`verify` returns the challenge) only for what the bot asked
for, same topic and mode; a denial is recorded and the feed stays polled. A pushed body (`receive`) goes
to `websub_push.PushReceiver` with its callback's subscription: checked against that secret's
`X-Hub-Signature`, then ingested (never as the feed's full item list), or ignored. HTTP is
`bot/edges/http_websub.py`'s; storage, hubs and ingest are seen through the Protocols in `websub_ports.py`.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import structlog

from bot.core.errors import NewsbotError
from bot.core.timeutil import utcnow
from bot.core.websub_plan import (
    VERIFY_WAIT,
    Action,
    Step,
    Subscription,
    SubState,
    confirms,
    plan,
    renew_at,
    retry_delay,
)
from bot.services.quiet_log import QuietLog
from bot.services.websub_ports import HubRequests, PushSink, SubscriptionStore, Verdict, WebSubConfig
from bot.services.websub_push import PushReceiver

log = structlog.get_logger(__name__)

CHALLENGE_MAX = 1024  # characters of hub.challenge echoed; a longer one is not a hub's


class WebSubService:
    def __init__(
        self,
        store: SubscriptionStore,
        hubs: HubRequests,
        ingest: PushSink,
        config: WebSubConfig,
        *,
        now: Callable[[], datetime] = utcnow,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.hubs = hubs
        self.ingest = ingest
        self.config = config
        self._now = now
        self.quiet = QuietLog(clock, log)
        self._by_token: dict[str, Subscription] = {}  # every row, refreshed by each reconcile
        self._loaded = False
        self._wake = asyncio.Event()
        self.pushes = PushReceiver(store, ingest, config, self.quiet, now=now)

    # -- subscriptions ------------------------------------------------------------------------------------

    def wake(self) -> None:
        """Reconcile soon: a feed's hub was discovered or changed, or a feed was removed or disabled."""
        self._wake.set()

    async def reconcile(self) -> float:
        """Do what is due for every subscription; returns the seconds until something is due next."""
        now = self._now()
        subs = await self.store.all()
        self._by_token = {s.token: s for s in subs}
        self._loaded = True
        actions = plan(await self.store.hub_feeds(), subs, now, callback_base=self.config.callback_base)
        for action in actions:
            await self._act(action, now)
        if actions:
            self._by_token = {s.token: s for s in await self.store.all()}
        due = [s.next_action_at for s in self._by_token.values()]
        wait = min(((d - self._now()).total_seconds() for d in due), default=self.config.reconcile_every)
        return min(max(wait, 0.05), self.config.reconcile_every)

    async def _act(self, action: Action, now: datetime) -> None:
        sub, feed = action.sub, action.feed
        step = action.step
        # A hub is asked on behalf of the feed that named it (a public feed may not name a private hub);
        # one being left was asked on behalf of a feed before.
        origin = feed.url if feed is not None else sub.hub if sub is not None else ""
        if step is Step.SUBSCRIBE and feed is not None:
            token, secret = secrets.token_urlsafe(24), secrets.token_urlsafe(32)
            created = await self.store.create(
                feed,
                callback=f"{self.config.callback_base}/{token}",
                token=token,
                secret=secret,
                now=now,
                next_action_at=now + VERIFY_WAIT,
            )
            if created is not None:
                self._by_token[token] = created
                await self._ask(created, "subscribe", now, origin)
            return
        if sub is None:
            return
        if step is Step.RENEW:
            deadline = min(sub.expires_at or now, now + VERIFY_WAIT)
            await self.store.update(sub.id, next_action_at=deadline, attempts=sub.attempts + 1)
            await self._ask(replace(sub, attempts=sub.attempts + 1), "subscribe", now, origin)
        elif step is Step.RETRY:
            if await self.store.update(
                sub.id,
                only_in=("denied", "failed"),
                state="requested",
                next_action_at=now + VERIFY_WAIT,
                attempts=sub.attempts + 1,
            ):
                retry = replace(sub, state="requested", attempts=sub.attempts + 1)
                await self._ask(retry, "subscribe", now, origin)
        elif step is Step.GIVE_UP:
            reason = f"the hub did not confirm within {VERIFY_WAIT.total_seconds() / 60:g} min"
            await self._fail(sub, reason, now, only_in=("requested",))
        elif step is Step.EXPIRE:
            if await self._fail(sub, "the lease ended before the hub confirmed a renewal", now):
                self._poll_now(sub)
        elif step is Step.UNSUBSCRIBE:
            attempts = sub.attempts + 1 if sub.state == "unsubscribing" else 1
            await self.store.update(
                sub.id, state="unsubscribing", attempts=attempts, next_action_at=now + VERIFY_WAIT
            )
            await self._ask(
                replace(sub, state="unsubscribing", attempts=attempts), "unsubscribe", now, origin
            )
        elif step is Step.DROP:
            await self.store.delete(sub.id)
            log.info("websub_dropped", feed_id=sub.feed_id, hub=sub.hub, state=sub.state)

    async def _ask(self, sub: Subscription, mode: str, now: datetime, origin: str) -> None:
        """Send a (un)subscription request; a refusal fails a subscribe, and ends an unsubscribe."""
        fields = {"hub.callback": sub.callback, "hub.mode": mode, "hub.topic": sub.topic}
        if mode == "subscribe":
            # the spec says SHOULD only over https; without it pushes could not be authenticated at all
            fields |= {"hub.lease_seconds": str(self.config.lease_seconds), "hub.secret": sub.secret}
        answer = await self.hubs.request(sub.hub, fields, origin=origin or sub.hub)
        if answer.accepted:
            log.info("websub_requested", mode=mode, feed_id=sub.feed_id, hub=sub.hub, topic=sub.topic)
            return
        log.warning("websub_request_failed", mode=mode, feed_id=sub.feed_id, hub=sub.hub, error=answer.reason)
        if mode == "unsubscribe":
            if answer.status is not None and 400 <= answer.status < 500:
                await self.store.delete(sub.id)  # the hub holds no such subscription
            return
        if sub.state == "verified":  # a renewal: the lease still runs; ask again before it ends
            retry = min(sub.expires_at or now, now + retry_delay(sub.attempts))
            await self.store.update(
                sub.id, only_in=("verified",), last_error=answer.reason, next_action_at=retry
            )
        else:
            await self._fail(sub, answer.reason, now, only_in=("requested",))

    async def _fail(
        self, sub: Subscription, reason: str, now: datetime, *, only_in: tuple[SubState, ...] = ("verified",)
    ) -> bool:
        changed = await self.store.update(
            sub.id,
            only_in=only_in,
            state="failed",
            last_error=reason,
            next_action_at=now + retry_delay(max(sub.attempts, 1)),
        )
        if changed:
            log.warning("websub_failed", feed_id=sub.feed_id, hub=sub.hub, error=reason)
        return changed

    def _poll_now(self, sub: Subscription) -> None:
        """The feed is no longer pushed: read it now, which also puts it back on its polling interval."""
        if sub.feed_id is not None:
            self.ingest.fetch_soon(sub.feed_id)

    async def loop(self, bot: Any, stop: asyncio.Event) -> None:
        """Reconcile until `stop`; pushes still being ingested are cancelled at the end."""
        try:
            while not stop.is_set():
                self._wake.clear()
                try:
                    delay = await self.reconcile()
                except NewsbotError as exc:
                    log.error("websub_reconcile_failed", error=str(exc))
                    delay = self.config.reconcile_every
                waiters = {asyncio.create_task(stop.wait()), asyncio.create_task(self._wake.wait())}
                try:
                    await asyncio.wait(waiters, timeout=delay, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    for waiter in waiters:
                        waiter.cancel()
        finally:
            await self.close()

    async def close(self) -> None:
        await self.pushes.close()

    # -- the hub's requests -------------------------------------------------------------------------------

    async def verify(self, token: str, query: Mapping[str, str]) -> str | None:
        """The body to answer a hub's GET with (the challenge, or "" for a recorded denial); None: 404."""
        sub = await self.store.by_token(token)
        mode, topic = query.get("hub.mode", ""), query.get("hub.topic", "")
        now = self._now()
        if mode == "denied" and sub is not None and sub.live and topic == sub.topic:
            reason = f"denied by the hub: {query.get('hub.reason') or 'no reason given'}"[:200]
            await self.store.update(
                sub.id, state="denied", last_error=reason, next_action_at=now + retry_delay(0, denied=True)
            )
            log.warning("websub_denied", feed_id=sub.feed_id, hub=sub.hub, reason=reason)
            if sub.state == "verified":
                self._poll_now(sub)
            return ""
        challenge = query.get("hub.challenge", "")
        if not challenge or len(challenge) > CHALLENGE_MAX or not confirms(sub, mode=mode, topic=topic):
            self.quiet.warning(
                "websub_verification_refused", mode=mode[:20], topic=topic[:200], known=bool(sub)
            )
            return None
        assert sub is not None  # `confirms` said so
        if mode == "unsubscribe":
            await self.store.delete(sub.id)
            self._by_token.pop(token, None)
            log.info("websub_unsubscribed", feed_id=sub.feed_id, hub=sub.hub, topic=sub.topic)
            return challenge
        lease = _lease(query.get("hub.lease_seconds"), self.config.lease_seconds)
        await self.store.update(
            sub.id,
            state="verified",
            lease_seconds=lease,
            expires_at=now + timedelta(seconds=lease),
            verified_at=now,
            next_action_at=renew_at(now, lease),
            attempts=0,
            last_error=None,
        )
        if (fresh := await self.store.get(sub.id)) is not None:
            self._by_token[token] = fresh
        log.info("websub_verified", feed_id=sub.feed_id, hub=sub.hub, topic=sub.topic, lease=lease)
        self.wake()  # the loop's next wake-up is now the renewal
        return challenge

    async def known(self, token: str) -> bool:
        """Whether `token` is a callback of ours (before the first reconcile, the database says)."""
        if token not in self._by_token and not self._loaded and (sub := await self.store.by_token(token)):
            self._by_token[token] = sub
        return token in self._by_token

    async def receive(
        self, token: str, body: bytes, *, content_type: str | None, signature: str | None
    ) -> Verdict:
        """A hub's POST to a callback: `PushReceiver.receive` with that callback's subscription."""
        return await self.pushes.receive(self._by_token.get(token), body, content_type, signature)


def _lease(value: str | None, default: int) -> int:
    """The lease the hub granted (hub.lease_seconds), else what was asked for."""
    with contextlib.suppress(TypeError, ValueError):
        lease = int(value or "")
        if 0 < lease <= 10 * 365 * 86_400:
            return lease
    return default
