"""Publish benchmark: latency (article stored → accepted by Telegram) and 429s, under Telegram's limits.

The local Bot API enforces Telegram's limits (20 posts a minute per channel, 30 a second overall) on a clock
that runs SCALE times faster than real time, and the publisher paces on the same clock, so a minute of
Telegram time takes 60/SCALE real seconds. The bot side is the real publisher, outbox and python-telegram-bot
`Bot` (without PTB's AIORateLimiter, which would pace in real minutes), woken after each store as the
ingest service wakes it. Run: `python -m bench.publish`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from telegram import Bot

from bot.adapters.db import Database
from bot.adapters.local_botapi import LocalBotAPI
from bot.adapters.repo_outbox import OutboxRepo
from bot.adapters.telegram_sender import TelegramSender
from bot.core.status import percentile
from bot.services.publisher import Publisher, PublisherConfig
from bot.settings import DEFAULT_TEMPLATE
from tests.outboxkit import CHANNEL, TOKEN, article, states, store

SCALE = 30.0  # Telegram seconds per real second


def scaled_clocks(scale: float) -> tuple[Callable[[], float], Callable[[], datetime]]:
    """A monotonic clock and a wall clock that both run `scale` times faster than real time."""
    mono0, wall0 = time.monotonic(), datetime.now(UTC)

    def mono() -> float:
        return mono0 + (time.monotonic() - mono0) * scale

    def wall() -> datetime:
        return wall0 + timedelta(seconds=(time.monotonic() - mono0) * scale)

    return mono, wall


async def run_case(workdir: Path, name: str, *, burst: int, spacing: float, paced: bool) -> dict[str, Any]:
    """Queue `burst` articles `spacing` Telegram-seconds apart and publish them all; returns the numbers."""
    mono, wall = scaled_clocks(SCALE)
    async with LocalBotAPI(TOKEN, clock=mono) as api:
        api.add_chat(CHANNEL, title="News")
        # the steady case runs with the real poll interval; the bursts poll often because a real second is
        # SCALE Telegram seconds there, and the publisher's sleeps are real
        config = PublisherConfig(template=DEFAULT_TEMPLATE, poll_seconds=0.5 if spacing else 0.02)
        if not paced:
            config = dataclasses.replace(config, posts_per_window=10_000, global_per_second=10_000)
        async with Database(workdir / f"{name}.db") as db:
            bot = Bot(TOKEN, base_url=f"{api.api_url}/bot")
            await bot.initialize()
            publisher = Publisher(
                OutboxRepo(db), lambda b: TelegramSender(b, timeout=10), config, clock=wall, monotonic=mono
            )
            stop = asyncio.Event()
            loop_task = asyncio.create_task(publisher.loop(bot, stop))
            started = time.monotonic()
            for i in range(burst):
                await store(db, [article(i + 1)])
                publisher.wake()
                if spacing:
                    await asyncio.sleep(spacing / SCALE)
            while (await states(db)).get("sent", 0) < burst:
                await asyncio.sleep(0.02)
            elapsed = (time.monotonic() - started) * SCALE
            stop.set()
            await loop_task
            await bot.shutdown()
            rows = await db.fetchall("SELECT latency_ms FROM outbox WHERE state = 'sent'")
        latencies = [int(r[0]) for r in rows]
        return {
            "case": name,
            "posts": burst,
            "status_429": api.count_429,
            "telegram_seconds": round(elapsed, 1),
            "p50_ms": percentile(latencies, 50),
            "p99_ms": percentile(latencies, 99),
        }


async def measure() -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        return [
            # 13 a minute: under the channel's limit, so latency is the pipeline's own (real ms)
            await run_case(workdir, "steady 13/min", burst=30, spacing=4.5, paced=True),
            # 60 at once: paced to 20 a minute, no 429 expected; latency is mostly waiting for the window
            await run_case(workdir, "burst of 60, paced", burst=60, spacing=0, paced=True),
            # the same burst without pacing, relying on 429s: what the pacing saves
            await run_case(workdir, "burst of 60, unpaced", burst=60, spacing=0, paced=False),
        ]


def report(results: list[dict[str, Any]]) -> str:
    lines = [f"publish (Telegram limits enforced; clock x{SCALE:g}; latency = stored → accepted)"]
    for r in results:
        p50 = r["p50_ms"] if "steady" in r["case"] else f"{r['p50_ms'] * SCALE / 1000:.1f} s"
        p99 = r["p99_ms"] if "steady" in r["case"] else f"{r['p99_ms'] * SCALE / 1000:.1f} s"
        unit = " ms" if "steady" in r["case"] else ""
        lines.append(
            f"  {r['case']:<22} posts {r['posts']:>3}  429s {r['status_429']:>3}  "
            f"took {r['telegram_seconds']:>6.1f} s  latency p50 {p50}{unit}  p99 {p99}{unit}"
        )
    return "\n".join(lines)


def main() -> None:
    print(report(asyncio.run(measure())))


if __name__ == "__main__":
    main()
