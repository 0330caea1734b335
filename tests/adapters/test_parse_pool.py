"""The parse pool's processes end with their owner, however the owner ends (SIGKILL included)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import IO

import pytest

from tests.kits import ROOT, processes

OWNER = """
import asyncio, os
from bot.adapters.parse_pool import ParsePool

async def main():
    pool = ParsePool(2)
    meta = await pool.page(b"<title>t</title>", url="https://example.com/", content_type="text/html")
    assert meta is not None
    print("workers", " ".join(str(p.pid) for p in pool._executor._processes.values()), flush=True)
    await asyncio.sleep(120)

asyncio.run(main())
"""


def _alive(pid: int) -> bool:
    return any(p.pid == pid for p in processes.descendants())


@pytest.mark.skipif(not processes.adopt_orphans(), reason="needs Linux /proc and a child subreaper")
def test_workers_and_forkserver_end_when_the_owner_is_killed() -> None:
    owner = subprocess.Popen(
        [sys.executable, "-c", OWNER], cwd=ROOT, stdout=subprocess.PIPE, text=True, env=os.environ.copy()
    )
    try:
        assert owner.stdout is not None
        line = next(line for line in owner.stdout if line.startswith("workers "))
        workers = [int(pid) for pid in line.split()[1:]]
        assert len(workers) == 2
        helpers = [p.pid for p in processes.descendants(owner.pid)]  # forkserver, workers, resource tracker
        assert set(workers) < set(helpers)
        owner.send_signal(signal.SIGKILL)
        assert owner.wait(timeout=10) == -signal.SIGKILL
        deadline = time.monotonic() + 10
        while (left := [pid for pid in helpers if _alive(pid)]) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert left == [], f"still running after the owner's SIGKILL: {left}"
    finally:
        if owner.poll() is None:
            owner.kill()
            owner.wait()


IDLE_OWNER = """
import asyncio, os
from bot.adapters.parse_pool import ParsePool

async def parse(pool):
    meta = await pool.page(b"<title>t</title>", url="https://example.com/", content_type="text/html")
    assert meta is not None

async def main():
    pool = ParsePool(2, idle_seconds=0.3, stop_forkserver=True)
    await parse(pool)
    print("workers", " ".join(str(p.pid) for p in pool._executor._processes.values()), flush=True)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20
    while pool.running and loop.time() < deadline:
        await asyncio.sleep(0.05)
    print("stopped" if not pool.running else "still running", flush=True)
    assert input() == "go"
    await parse(pool)  # the next parse starts the workers again
    print("parsed again", len(pool._executor._processes), flush=True)
    await pool.close()

asyncio.run(main())
"""


def _said(stream: IO[str]) -> str:
    """The script's next line of its own (structlog's lines go to the same stdout)."""
    for line in stream:
        if line.startswith(("workers", "stopped", "still", "parsed")):
            return line.strip()
    return "(ended)"


@pytest.mark.skipif(not processes.supported(), reason="needs Linux /proc")
def test_idle_workers_and_forkserver_stop_and_start_again_with_work() -> None:
    owner = subprocess.Popen(
        [sys.executable, "-c", IDLE_OWNER],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    try:
        assert owner.stdout is not None
        assert owner.stdin is not None
        line = _said(owner.stdout)
        assert line.startswith("workers "), line
        helpers = [p.pid for p in processes.descendants(owner.pid)]  # forkserver, workers, tracker
        workers = [int(pid) for pid in line.split()[1:]]
        assert len(workers) == 2
        assert set(workers) < set(helpers)
        assert _said(owner.stdout) == "stopped"
        left = [p.pid for p in processes.descendants(owner.pid)]
        assert not set(workers) & set(left), "workers still running while idle"
        assert len(left) <= 1, f"more than the resource tracker left while idle: {left}"  # no forkserver
        owner.stdin.write("go\n")
        owner.stdin.flush()
        assert _said(owner.stdout) == "parsed again 2"
        assert owner.wait(timeout=30) == 0
    finally:
        if owner.poll() is None:
            owner.kill()
            owner.wait()
