"""`GET /metrics` on the real bot: Prometheus text that parses, counts equal to `newsbot stats` after a
feed is ingested (in the ingest process) and posted through the stand-in, and a hammering that costs one
database read."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bench.farm import free_port
from bot.adapters.db import Database
from bot.adapters.repo_metrics import MetricsRepo, StoredCounts
from bot.edges.cli_stats import collect_status
from bot.edges.http_metrics import Metrics
from tests.kits.newsroomkit import READER, Story, running_newsroom

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(port: int) -> Samples:
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(f"http://127.0.0.1:{port}/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


async def test_metrics_agree_with_newsbot_stats(tmp_path: Path) -> None:
    port = free_port()
    stories = [Story("a", "A story"), Story("b", "Another story")]
    async with running_newsroom(tmp_path, stories, REVIEW="off", HTTP_LISTEN=f"127.0.0.1:{port}") as room:
        await room.api.wait_until(lambda: len(room.posts()) == 2, timeout=20)
        room.api.inject_message("/latest", user_id=READER, first_name="Rita")
        await room.api.wait_until(lambda: bool(room.api.chat_messages(READER)), timeout=10)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 15
        while True:  # the post's latency and the ingest process's cycle arrive on their own time
            samples = await scrape(port)
            cycles = value(samples, "newsbot_ingest_cycle_seconds_count")
            published = value(samples, "newsbot_publish_latency_seconds_count")
            if (cycles >= 1 and published >= 2) or loop.time() > deadline:
                break
            await asyncio.sleep(0.2)
        async with httpx.AsyncClient(timeout=20, limits=httpx.Limits(max_connections=100)) as client:
            url = f"http://127.0.0.1:{port}/metrics"
            hammered = await asyncio.gather(*(client.get(url) for _ in range(100)))
        assert {r.status_code for r in hammered} == {200}
        room.api.inject_message("/latest", user_id=READER, first_name="Rita")  # the bot still answers
        await room.api.wait_until(lambda: len(room.api.chat_messages(READER)) >= 2, timeout=10)
        db = await Database(room.db_path).open(migrate=False, read_only=True)
        try:
            stats = await collect_status(db)
        finally:
            await db.close()
    assert cycles >= 1
    assert published == 2
    assert value(samples, "newsbot_entries_stored") == stats.articles == 2
    assert value(samples, "newsbot_feeds", state="enabled") == stats.feeds_enabled == 1
    assert value(samples, "newsbot_feeds", state="failing") == stats.feeds_failing == 0
    for state in ("sent", "failed", "queued"):
        assert value(samples, "newsbot_posts", state=state) == stats.publish.count(state)
    assert value(samples, "newsbot_posts", state="sent") == 2
    assert value(samples, "newsbot_fetches_total", outcome="ok") >= 1
    assert value(samples, "newsbot_telegram_429_total") == 0
    assert value(samples, "newsbot_command_latency_seconds_count", command="latest") >= 1
    assert ("newsbot_dms", (("state", "sent"),)) in samples


class CountingRepo(MetricsRepo):
    """The real repository, counting its reads."""

    reads = 0

    async def counts(self) -> StoredCounts:
        self.reads += 1
        await asyncio.sleep(0.05)  # a slow disk: every scrape arriving meanwhile must wait, not read
        return await super().counts()


async def test_a_hundred_scrapes_at_once_cost_one_read(tmp_path: Path) -> None:
    db = await Database(tmp_path / "m.db").open(migrate=True)
    try:
        now = [100.0]
        repo = CountingRepo(db)
        metrics = Metrics(repo, cache_seconds=1.5, clock=lambda: now[0])
        texts = await asyncio.gather(*(metrics.render() for _ in range(100)))
        assert repo.reads == 1
        assert len(set(texts)) == 1
        assert b"newsbot_entries_stored 0.0" in texts[0]
        now[0] += 2  # past the cache: the next scrape reads again
        await metrics.render()
        assert repo.reads == 2
    finally:
        await db.close()
