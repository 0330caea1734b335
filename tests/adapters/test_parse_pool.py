"""The parse pool's processes end with their owner, however the owner ends (SIGKILL included)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

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
