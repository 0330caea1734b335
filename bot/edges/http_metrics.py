"""`GET /metrics`: the bot's numbers in Prometheus' text format, through prometheus-client on a registry
of our own (never the library's global one).

Across processes: everything stored (feeds by state, entries, posts and private messages by state) is
read from SQLite at scrape time by bot/adapters/repo_metrics.py, so it counts the ingest process's work
and agrees with `newsbot stats` by construction; publish latencies are stored per post too
(outbox.latency_ms) and fed into the histogram as new posts appear. The ingest process's own numbers
(cycle duration, fetches by outcome) come over its pipe: each finished cycle's CycleSummary is sent to the
bot (bot/edges/ingest_process.py) and counted here. That was chosen over prometheus-client's multiprocess
mode, which needs a shared directory of mmap'd files, an environment variable set before the library is
imported, and cleanup after every child restart, for numbers a message per cycle already carries.
Command latency and Telegram's 429s are observed in the bot's own process.

Scraped hard (a hundred at once), it costs one render: the text is rebuilt at most once per
`cache_seconds`, and one lock lets a single scrape refresh while the others wait and share its result.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Iterator

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from bot.adapters.repo_metrics import MetricsRepo, StoredCounts
from bot.core.status import OUTBOX_STATES
from bot.edges.runtime import Runtime
from bot.services.ingest_ports import CycleSummary

__all__ = ["COMMAND_SECONDS", "Metrics", "build_metrics", "metrics_routes"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_FAST = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

# Process-wide (commands run wherever the Application runs); each Metrics registry includes it.
COMMAND_SECONDS = Histogram(
    "newsbot_command_latency_seconds",
    "Time from a command reaching its handler to the handler's end (reply sent)",
    ["command"],
    buckets=_FAST,
    registry=None,
)


class _Stored(Collector):
    """The stored numbers, as of the last refresh (the lock in `Metrics.render` keeps them consistent)."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[Metric]:
        counts = self.metrics.counts
        feeds = GaugeMetricFamily(
            "newsbot_feeds", "Feeds by state (failing: enabled, erroring)", labels=["state"]
        )
        feeds.add_metric(["enabled"], counts.feeds_enabled)
        feeds.add_metric(["disabled"], counts.feeds_disabled)
        feeds.add_metric(["failing"], counts.feeds_failing)
        yield feeds
        yield GaugeMetricFamily(
            "newsbot_entries_stored", "Articles (feed entries) in the database", counts.articles
        )
        posts = GaugeMetricFamily("newsbot_posts", "Channel posts in the outbox by state", labels=["state"])
        for state in sorted(set(OUTBOX_STATES) | set(counts.posts)):
            posts.add_metric([state], counts.posts.get(state, 0))
        yield posts
        dms = GaugeMetricFamily("newsbot_dms", "Subscription messages to readers by state", labels=["state"])
        for state in sorted({"queued", "sent", "failed"} | set(counts.dms)):
            dms.add_metric([state], counts.dms.get(state, 0))
        yield dms
        throttled = CounterMetricFamily("newsbot_telegram_429", "HTTP 429 answers from the Bot API")
        throttled.add_metric([], sum(self.metrics.throttled()))
        yield throttled
        yield GaugeMetricFamily(
            "newsbot_sends_waiting",
            "Bot API sends waiting for room in the send budget (Telegram's flood limits)",
            self.metrics.sends_waiting(),
        )


class Metrics:
    """The registry behind `/metrics`; `cycle` is told of each ingest cycle (wherever it ran)."""

    def __init__(
        self,
        repo: MetricsRepo,
        throttled: Callable[[], list[int]] = list,
        *,
        sends_waiting: Callable[[], int] = int,
        cache_seconds: float = 1.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.repo = repo
        self.throttled = throttled
        self.sends_waiting = sends_waiting
        self.cache_seconds = cache_seconds
        self.clock = clock
        self.counts = StoredCounts()
        self.registry = CollectorRegistry(auto_describe=True)
        self.publish_latency = Histogram(
            "newsbot_publish_latency_seconds",
            "Article stored -> channel post accepted by Telegram (posts sent since the bot started)",
            buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600),
            registry=self.registry,
        )
        self.cycle_seconds = Histogram(
            "newsbot_ingest_cycle_seconds",
            "Duration of ingest cycles (the ingest process's)",
            buckets=(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
            registry=self.registry,
        )
        self.fetches = Counter(
            "newsbot_fetches", "Feed fetches in ingest cycles by outcome", ["outcome"], registry=self.registry
        )
        for outcome in ("ok", "not_modified", "failed"):
            self.fetches.labels(outcome)
        self.registry.register(COMMAND_SECONDS)
        self.registry.register(_Stored(self))
        self._lock = asyncio.Lock()
        self._text = b""
        self._at = -math.inf

    def cycle(self, summary: CycleSummary) -> None:
        if summary.feeds_fetched == 0:
            return  # nothing was due: not a cycle worth a sample
        self.cycle_seconds.observe(summary.seconds)
        ok = summary.feeds_fetched - summary.not_modified - summary.failed
        self.fetches.labels("ok").inc(max(ok, 0))
        self.fetches.labels("not_modified").inc(summary.not_modified)
        self.fetches.labels("failed").inc(summary.failed)

    async def render(self) -> bytes:
        """The exposition text, at most `cache_seconds` old."""
        async with self._lock:
            if self.clock() - self._at < self.cache_seconds:
                return self._text
            self.counts = await self.repo.counts()
            for ms in await self.repo.new_latencies():
                self.publish_latency.observe(ms / 1000)
            self._text = generate_latest(self.registry)
            self._at = self.clock()
            return self._text


def metrics_routes(metrics: Metrics) -> list[web.RouteDef]:
    async def serve(request: web.Request) -> web.Response:
        try:
            body = await asyncio.wait_for(metrics.render(), timeout=10)
        except Exception as exc:  # noqa: BLE001 - a scrape must get an answer, the bot must go on
            return web.Response(status=503, text=f"metrics unavailable: {type(exc).__name__}: {exc}"[:200])
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE, "Cache-Control": "no-store"})

    return [web.get("/metrics", serve)]


def build_metrics(runtime: Runtime) -> Metrics:
    """Metrics over this runtime's query-only connection, its Telegram transports and its ingest loop."""
    metrics = Metrics(
        MetricsRepo(runtime.read_db or runtime.db, since=int(time.time())),
        lambda: [getattr(r, "throttled", 0) for r in runtime.telegram_requests],
        sends_waiting=lambda: getattr(runtime.send_budget, "queued", 0),
    )
    if runtime.ingest_process is not None:
        runtime.ingest_process.on_cycle.append(metrics.cycle)
    elif runtime.ingest is not None:
        runtime.ingest.on_cycle.append(metrics.cycle)
    return metrics
