"""Runs newsbot's ingest cycle over the farm in this process: one cold and one warm cycle, as in production.

The database is opened (and migrated) by `bot.edges.runtime.open_runtime`, and the cycles run on the
IngestService `newsbot run`'s ingest process builds (`bot.edges.ingest_wiring.open_child_ingest`: the same
fetcher, parse pool and repositories; the bot's own one has a single parse worker), with logging configured as
in production (JSON lines at INFO, written to a file here). A ticker coroutine wakes every 10 ms and records
how late it woke: the longest event-loop stall. Memory is sampled from outside by the caller (this process and
its parse workers). The farm and the report are bench/farm.py's and bench/ingest.py's.

Usage: python -m bench.side_newsbot URLS_FILE DB_PATH  → prints one JSON line.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.edges.ingest_wiring import open_child_ingest
from bot.edges.runtime import open_runtime
from bot.logs import configure_logging
from bot.settings import load_settings

TICK = 0.010


class StallMeter:
    """A coroutine that sleeps `TICK` seconds at a time and keeps the worst lateness, per phase."""

    def __init__(self) -> None:
        self.worst = 0.0
        self.ticks = 0
        self._task: asyncio.Task[None] | None = None

    def reset(self) -> float:
        worst, self.worst, self.ticks = self.worst, 0.0, 0
        return worst

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + TICK
            await asyncio.sleep(TICK)
            self.worst = max(self.worst, loop.time() - due)
            self.ticks += 1

    def __enter__(self) -> StallMeter:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()


async def measure(urls: list[str], db_path: Path) -> dict[str, Any]:
    settings = load_settings(
        None,
        DATABASE_PATH=str(db_path),
        FEEDS="",
        CHANNEL_ID="@benchnews",  # posts are queued as in production (nothing sends them here)
        LOG_LEVEL="INFO",
        LOG_FORMAT="json",
    )
    log_file = db_path.with_suffix(".log").open("w")
    configure_logging(settings.log_level, settings.log_format, stream=log_file)
    runtime = await open_runtime(settings)
    ingest, close_ingest = await open_child_ingest(settings)
    try:
        now = datetime.now(UTC)
        for url in urls:
            await runtime.feeds.add(url, now)
        with StallMeter() as meter:
            await asyncio.sleep(0.05)
            meter.reset()
            started = time.perf_counter()
            cold = await ingest.run_cycle(only_due=False)
            cold_s = time.perf_counter() - started
            cold_stall = meter.reset()
            started = time.perf_counter()
            warm = await ingest.run_cycle(only_due=False)
            warm_s = time.perf_counter() - started
            warm_stall = meter.reset()
        articles = await runtime.articles.count()
    finally:
        await close_ingest()
        await runtime.close()
        log_file.close()
    return {
        "cold_s": cold_s,
        "warm_s": warm_s,
        "entries": articles,
        "cold_new": cold.new_articles,
        "cold_failed": cold.failed,
        "warm_not_modified": warm.not_modified,
        "warm_failed": warm.failed,
        "cold_stall_ms": cold_stall * 1000,
        "warm_stall_ms": warm_stall * 1000,
        "self_maxrss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    urls = Path(sys.argv[1]).read_text().split()
    print(json.dumps(asyncio.run(measure(urls, Path(sys.argv[2])))))


if __name__ == "__main__":
    main()
