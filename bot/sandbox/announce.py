"""How the sample sites tell the world they published, each its own way (`Publication.delivery`).

- "push": the site advertises the sandbox's WebSub hub in its feed and, on every change, sends the hub
  `hub.mode=publish&hub.url=<feed>` (the common publisher ping); the hub fetches the feed and pushes it,
  signed, to the bot's callback.
- "ping": the site sends the bot an update ping when it publishes, as WordPress does with no plugin:
  `POST {bot}/ping` with XML-RPC `weblogUpdates.ping(site name, site URL)`.
- "poll": nothing; the bot finds the story on its next poll.

The newsroom calls `announce` after each change; requests are sent in the background, and what they gave
is counted for the page (`stats`). The hub itself is `websub_hub`, the bot's side `bot/edges`.
"""

from __future__ import annotations

import xmlrpc.client
from dataclasses import dataclass, field

import aiohttp
import structlog

from bot.sandbox.outbound import Outbound
from bot.sandbox.stories import PUBLICATIONS, publication

log = structlog.get_logger(__name__)

USER_AGENT = "WordPress/6.6.2; newsbot sandbox"
HOW = {
    "push": "pushes through the local WebSub hub the moment it publishes",
    "ping": "pings the bot like WordPress (weblogUpdates.ping to /ping) when it publishes",
    "poll": "does nothing special: the bot polls its feed",
}


@dataclass
class SiteStats:
    sent: int = 0
    failed: int = 0
    last_error: str | None = None


@dataclass
class Announcer:
    origin: str  # the sample server, http://127.0.0.1:PORT
    hub_url: str  # where the sites' WebSub hub takes publish notifications
    ping_url: str  # the bot's update-ping endpoint, {PUBLIC_URL}/ping
    timeout: float = 5.0
    stats: dict[str, SiteStats] = field(default_factory=lambda: {p.key: SiteStats() for p in PUBLICATIONS})

    def __post_init__(self) -> None:
        self._out = Outbound(timeout=self.timeout, headers={"User-Agent": USER_AGENT})

    def announce(self, key: str, change: str) -> None:
        """The newsroom's listener: the site `key` published (or revised) a story."""
        delivery = publication(key).delivery
        if delivery == "push" or (delivery == "ping" and change == "published"):
            self._out.spawn(self._send(key, delivery))

    async def _send(self, key: str, delivery: str) -> None:
        pub = publication(key)
        site = f"{self.origin}/{key}/"
        stats = self.stats[key]
        try:
            if delivery == "push":
                form = {"hub.mode": "publish", "hub.url": f"{site}{pub.feed_path}"}
                async with self._out.session.post(self.hub_url, data=form) as response:
                    ok = response.status < 300
                    detail = f"hub answered HTTP {response.status}"
            else:
                body = xmlrpc.client.dumps((pub.name, site), "weblogUpdates.ping")
                headers = {"Content-Type": "text/xml"}
                async with self._out.session.post(self.ping_url, data=body, headers=headers) as response:
                    answer = await response.read()
                (reply,), _ = xmlrpc.client.loads(answer)
                struct = reply if isinstance(reply, dict) else {}
                ok = response.status == 200 and struct.get("flerror") is False
                detail = str(struct.get("message", f"HTTP {response.status}"))
        except (aiohttp.ClientError, TimeoutError, xmlrpc.client.Error, ValueError) as exc:
            ok, detail = False, f"{type(exc).__name__}: {exc}"[:160]
        if ok:
            stats.sent += 1
        else:
            stats.failed += 1
            stats.last_error = detail
            log.info("sample_site_announce_failed", site=key, delivery=delivery, error=detail)

    async def close(self) -> None:
        await self._out.close()
