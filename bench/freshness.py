"""The freshness benchmark (issue 11): how soon a story reaches the channel, and how many requests it costs.

Two bots run side by side, each `newsbot run` in its own process, on its own database, channel and stand-in:
"fixed" is today's deployment (POLL_SCHEDULE=fixed, no HTTP server: every feed read every
POLL_INTERVAL_SECONDS), "instant" has everything on (adaptive polling, update pings, WebSub push). Both read
the same timeline of stories, served here on loopback by four kinds of site (bench/freshness_sites.py):
busy sites that publish every `busy_period` seconds and quiet ones that publish every few hours, both only
polled; sites that ping the bot like WordPress when they publish; and sites that push through a local WebSub
hub. Each bot reads its own copy of every site (a path prefix), so requests are counted per bot.

A story's delay is from the moment its site shows it (and pings or notifies the hub) to the moment the bot's
post of it reaches the stand-in. Stories published before the run are history (the adaptive schedule learns a
site's pace from them) and are never posted (BACKFILL_MAX_POSTS=0). Goals (issue 11): push p95 <= 5 s; busy
poll-only median at most half the fixed schedule's; requests per hour no more than the fixed schedule's.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from bench.chat import bot_process
from bench.freshness_sites import KINDS, SiteFarm

__all__ = ["KINDS", "run"]
from bench.farm import free_port
from bench.report import Goal, median, percentile
from bot.sandbox.botapi import LocalBotAPI

CHANNEL = -1001000000777
TOKENS = {
    "fixed": "700001:BENCH-fresh-fixed-aaaaaaaaaaaaaaaaaaaa",
    "instant": "700002:BENCH-fresh-instant-aaaaaaaaaa",
}
PUSH_P95_GOAL_S = 5.0
BUSY_MEDIAN_RATIO_GOAL = 0.5
REQUEST_RATIO_GOAL = 1.0


def bot_env(side: str, farm: SiteFarm, api: LocalBotAPI, db: Path, poll: int) -> dict[str, str]:
    env = {
        "BOT_TOKEN": TOKENS[side],
        "TELEGRAM_API_URL": api.api_url,
        "CHANNEL_ID": str(CHANNEL),
        "DATABASE_PATH": str(db),
        "FEEDS": ",".join(farm.feed_urls(side)),
        "POLL_INTERVAL_SECONDS": str(poll),
        "BACKFILL_MAX_POSTS": "0",
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "INFO",
        "PARSE_WORKERS": "1",
        "POLL_SCHEDULE": "fixed",
    }
    if side == "instant":
        port = free_port()
        env.update(
            POLL_SCHEDULE="adaptive",
            MIN_POLL_INTERVAL_SECONDS="10",
            HTTP_LISTEN=f"127.0.0.1:{port}",
            PUBLIC_URL=f"http://127.0.0.1:{port}",
        )
        farm.bot_urls[side] = f"http://127.0.0.1:{port}"
    return env


class PostWatch:
    """When each story's post reached the stand-in (wall clock), re-checked on every stand-in change."""

    def __init__(self, api: LocalBotAPI) -> None:
        self.api = api
        self.seen: dict[str, float] = {}

    def _grown(self, count: int) -> bool:
        return len(self.api.channel_posts(CHANNEL)) > count

    async def follow(self, stop: asyncio.Event) -> None:
        count = 0
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await self.api.wait_until(lambda n=count: self._grown(n) or stop.is_set(), timeout=1.0)
            posts = self.api.channel_posts(CHANNEL)
            now = time.time()
            for post in posts[count:]:
                for entity in post.entities:
                    if entity.get("type") == "text_link":
                        self.seen.setdefault(str(entity["url"]), now)
            count = len(posts)


@contextlib.asynccontextmanager
async def running_side(
    side: str, farm: SiteFarm, workdir: Path, poll: int, log_path: Path | None
) -> AsyncIterator[PostWatch]:
    async with LocalBotAPI(TOKENS[side]) as api:
        api.add_chat(CHANNEL, username=f"fresh_{side}", title=f"Freshness {side}")
        env = bot_env(side, farm, api, workdir / f"{side}.db", poll)
        argv = [sys.executable, "-m", "bot", "run"]
        async with bot_process(argv, env, api, log_path):
            watch = PostWatch(api)
            stop = asyncio.Event()
            task = asyncio.create_task(watch.follow(stop))
            try:
                yield watch
            finally:
                stop.set()
                await task


def _delays(farm: SiteFarm, side: str, watch: PostWatch, kind: str) -> tuple[list[float], int]:
    """Delays (s) of the stories of `kind` that reached the channel, and how many never did."""
    delays, missing = [], 0
    for story in farm.published(kind):
        seen = watch.seen.get(story.url(farm.origin, side))
        if seen is None:
            missing += 1
        else:
            delays.append(max(0.0, seen - story.shown_at))
    return delays, missing


def _summary(delays: list[float], missing: int) -> dict[str, Any]:
    return {
        "stories": len(delays) + missing,
        "posted": len(delays),
        "median_s": round(median(delays), 2),
        "p95_s": round(percentile(delays, 95), 2),
        "max_s": round(max(delays), 2) if delays else None,
    }


async def run(
    *,
    duration: float = 240.0,
    poll: int = 60,
    sites: dict[str, int] | None = None,
    bot_log: Path | None = None,
) -> dict[str, Any]:
    counts = sites or {"busy": 4, "quiet": 40, "ping": 2, "push": 2}
    farm = SiteFarm(counts, busy_period=max(8.0, min(40.0, duration / 6)), sides=tuple(TOKENS))
    with tempfile.TemporaryDirectory(prefix="newsbot-freshness-") as tmp:
        async with (
            farm,
            running_side("fixed", farm, Path(tmp), poll, bot_log) as fixed,
            running_side("instant", farm, Path(tmp), poll, bot_log) as instant,
        ):
            await farm.wait_subscribed("instant", timeout=30)
            await asyncio.sleep(min(5.0, duration / 10))  # both bots' first reads are done
            started = time.time()
            farm.reset_counts()
            await farm.publish_for(duration)
            await asyncio.sleep(min(poll * 1.2, duration / 2))  # the last stories' polls
            elapsed = time.time() - started
            watches = {"fixed": fixed, "instant": instant}
            result: dict[str, Any] = {"duration_s": round(elapsed, 1), "poll_s": poll, "sites": counts}
            for side, watch in watches.items():
                per_kind = {kind: _summary(*_delays(farm, side, watch, kind)) for kind in KINDS}
                requests = farm.requests(side)
                per_kind["requests_per_hour"] = round(requests * 3600 / elapsed)
                result[side] = per_kind
    return _report(result)


def _report(result: dict[str, Any]) -> dict[str, Any]:
    fixed, instant = result["fixed"], result["instant"]
    push_p95 = instant["push"]["p95_s"]
    busy_ratio = instant["busy"]["median_s"] / fixed["busy"]["median_s"] if fixed["busy"]["median_s"] else 0
    request_ratio = instant["requests_per_hour"] / max(1, fixed["requests_per_hour"])
    lost = sum(instant[k]["stories"] - instant[k]["posted"] for k in KINDS if k != "quiet")
    result["goals"] = [
        Goal(
            "push-capable sites: p95 delay story -> channel",
            f"<= {PUSH_P95_GOAL_S:g} s",
            f"push {push_p95} s, ping {instant['ping']['p95_s']} s (fixed schedule: "
            f"{fixed['push']['p95_s']} s)",
            push_p95 <= PUSH_P95_GOAL_S and instant["ping"]["p95_s"] <= PUSH_P95_GOAL_S and lost == 0,
        ).as_dict(),
        Goal(
            "busy poll-only sites: median delay, adaptive vs fixed",
            f"<= {BUSY_MEDIAN_RATIO_GOAL:g}x",
            f"{busy_ratio:.2f}x ({instant['busy']['median_s']} s vs {fixed['busy']['median_s']} s)",
            0 < busy_ratio <= BUSY_MEDIAN_RATIO_GOAL,
        ).as_dict(),
        Goal(
            "feed requests per hour, adaptive (+push, pings) vs fixed",
            f"<= {REQUEST_RATIO_GOAL:g}x",
            f"{request_ratio:.2f}x ({instant['requests_per_hour']} vs {fixed['requests_per_hour']})",
            request_ratio <= REQUEST_RATIO_GOAL,
        ).as_dict(),
    ]
    lines = [
        f"  {result['duration_s']} s of stories; fixed schedule every {result['poll_s']} s; "
        f"sites {result['sites']}"
    ]
    for side in ("fixed", "instant"):
        parts = [
            f"{kind} p50 {result[side][kind]['median_s']} s / p95 {result[side][kind]['p95_s']} s "
            f"({result[side][kind]['posted']}/{result[side][kind]['stories']})"
            for kind in KINDS
            if result[side][kind]["stories"]
        ]
        lines.append(f"  {side:<8} " + "; ".join(parts) + f"; {result[side]['requests_per_hour']} requests/h")
    result["lines"] = lines
    return result
