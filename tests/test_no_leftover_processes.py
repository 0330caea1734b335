"""The suite's own guard (tests/conftest.py) sees a process that a test left behind, orphans included."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.kits import processes

# starts a sleeper and exits at once: the sleeper's parent is gone, the kernel re-parents it
DOUBLE_FORK = """
import subprocess, sys
quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
p = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], **quiet)
print(p.pid, flush=True)
"""


@pytest.mark.skipif(not processes.adopt_orphans(), reason="needs Linux /proc and a child subreaper")
def test_an_orphan_is_adopted_and_reported_then_killed() -> None:
    before = {p.pid for p in processes.descendants()}
    done = subprocess.run([sys.executable, "-c", DOUBLE_FORK], capture_output=True, text=True, check=True)
    orphan = int(done.stdout)
    left = processes.leftovers(before, grace=0.2)
    assert [p.pid for p in left] == [orphan]
    assert "time.sleep(60)" in left[0].cmdline
    processes.kill(left)
    assert processes.leftovers(before, grace=5) == []
