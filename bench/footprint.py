"""The footprint benchmark (issue 14): what an idle `newsbot run` with 50 feeds holds in memory.

The bot runs as deployed (`python -m bot run` in a child process, its ingest process, and parse workers
while a cycle needs them) against the local Bot API stand-in, with 50 farm feeds (bench/farm.py) as FEEDS.
Memory is PSS summed over the bot's whole process tree (/proc/<pid>/smaps_rollup, bench/proctree.py):
shared pages are divided among the processes sharing them, so nothing is counted twice. Measured: the
peak during the first (cold) cycle; idle just after it, while the parse workers wait out PARSE_IDLE_SECONDS;
idle once they have stopped (the goal, 120 MiB); and idle after a restart, before any cycle is due.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.chat import IngestWatch, bot_process
from bench.farm import Farm
from bench.proctree import TreeSampler, descendants, tree_pss
from bot.sandbox.botapi import LocalBotAPI

TOKEN = "123456:BENCH-token-footprint-aaaaaaaaaaaaaaa"
CHANNEL = -1001234567890
GOAL_MIB = 120.0


async def _bot_pid(process_parent: int) -> int:
    """The bot's pid: the one child of this process running `bot run`."""
    for pid in descendants(process_parent)[1:]:
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except FileNotFoundError:
            continue
        if b"bot" in cmdline and b"run" in cmdline:
            return pid
    raise RuntimeError("the bot process was not found")


async def _settle(pid: int, seconds: float) -> dict[str, Any]:
    """Wait, then the tree's PSS (the least of three samples a second apart: a sample taken while a
    process pages something in for a moment is not idle)."""
    await asyncio.sleep(seconds)
    samples = []
    for _ in range(3):
        samples.append(tree_pss(pid))
        await asyncio.sleep(1)
    return min(samples, key=lambda s: s["mib"])


async def run(*, feeds: int = 50, parse_idle: int = 60, bot_log: Path | None = None) -> dict[str, Any]:
    """The section: `parse_idle` is the bot's PARSE_IDLE_SECONDS (the default setting by default)."""
    with tempfile.TemporaryDirectory(prefix="bench-footprint-") as tmp, Farm(feeds) as farm:
        db_path = Path(tmp) / "newsbot.db"
        async with LocalBotAPI(TOKEN) as api:
            api.add_chat(CHANNEL, username="benchnews", title="Bench News")
            env = {
                "BOT_TOKEN": TOKEN,
                "TELEGRAM_API_URL": api.api_url,
                "CHANNEL_ID": str(CHANNEL),
                "DATABASE_PATH": str(db_path),
                "FEEDS": ",".join(farm.urls[:feeds]),
                "BACKFILL_MAX_POSTS": "0",  # nothing to post: the footprint of waiting, not of publishing
                "LOG_FORMAT": "json",
                "PARSE_IDLE_SECONDS": str(parse_idle),
            }
            argv = [sys.executable, "-m", "bot", "run"]
            watch = IngestWatch(db_path, feeds)
            stop = asyncio.Event()
            async with bot_process(argv, env, api, bot_log):
                pid = await _bot_pid(os.getpid())
                sampler = TreeSampler(pid).start()
                following = asyncio.create_task(watch.follow(stop))
                deadline = time.perf_counter() + 300
                while not watch.cycles and time.perf_counter() < deadline:
                    await asyncio.sleep(0.1)
                stop.set()
                await following
                if not watch.cycles:
                    raise RuntimeError("the first ingest cycle did not end within 300 s")
                sampler.stop()
                after_cycle = await _settle(pid, 2)
                idle = await _settle(pid, parse_idle + 5)
            async with bot_process(argv, env, api, bot_log):
                restarted = await _settle(await _bot_pid(os.getpid()), 5)
    cycle = watch.cycles[0]
    passed = idle["mib"] <= GOAL_MIB and restarted["mib"] <= GOAL_MIB
    lines = [
        f"  {feeds} farm feeds as FEEDS; PSS summed over the bot's process tree",
        f"  first (cold) cycle: {cycle['new']} articles in {cycle['seconds']} s,"
        f" peak {sampler.peak_mib:.0f} MiB over {sampler.peak_processes} processes",
        f"  idle just after the cycle (parse workers waiting): {_line(after_cycle)}",
        f"  idle {parse_idle + 5} s later (workers stopped): {_line(idle)}",
        f"  idle after a restart, before any cycle is due: {_line(restarted)}",
    ]
    goal = {
        "goal": f"idle footprint with {feeds} feeds at most {GOAL_MIB:g} MiB PSS over all processes",
        "target": f"<= {GOAL_MIB:g} MiB",
        "measured": f"{idle['mib']:.0f} MiB after a cycle, {restarted['mib']:.0f} MiB after a restart",
        "pass": passed,
    }
    return {
        "feeds": feeds,
        "cycle": cycle,
        "cycle_peak_mib": round(sampler.peak_mib, 1),
        "cycle_peak_processes": sampler.peak_processes,
        "after_cycle": after_cycle,
        "idle": idle,
        "restarted": restarted,
        "goals": [goal],
        "lines": lines,
    }


def _line(sample: dict[str, Any]) -> str:
    parts = ", ".join(f"{name} {mib:.0f}" for name, mib in sample["processes"])
    return f"{sample['mib']:.0f} MiB over {len(sample['processes'])} processes ({parts})"
