"""Which processes this test process started, directly or not, and are still running (Linux /proc).

`adopt_orphans` makes the test process a child subreaper (prctl PR_SET_CHILD_SUBREAPER): a process
whose parent dies is then re-parented to the test process instead of init, so it stays visible here.
That is how an orphan is caught: a parse pool's forkserver and workers, say, whose owner was killed.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing.forkserver
import multiprocessing.resource_tracker
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

PR_SET_CHILD_SUBREAPER = 36  # linux/prctl.h
PROC = Path("/proc")


@dataclass(frozen=True, slots=True)
class Proc:
    pid: int
    ppid: int
    state: str  # one letter of /proc/PID/stat: R, S, D, Z (zombie: exited, not yet reaped), ...
    cmdline: str

    def __str__(self) -> str:
        return f"pid {self.pid} (parent {self.ppid}): {self.cmdline[:160]}"


def supported() -> bool:
    return (PROC / "self" / "stat").is_file()


def adopt_orphans() -> bool:
    """Become a child subreaper; False where the kernel (or libc) has no such thing."""
    if not supported():
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


def _read(pid: str) -> Proc | None:
    try:
        stat = (PROC / pid / "stat").read_text()
        raw = (PROC / pid / "cmdline").read_bytes()
    except OSError:  # gone meanwhile
        return None
    fields = stat[stat.rindex(")") + 2 :].split()  # the name in parentheses may hold spaces
    return Proc(
        int(pid), int(fields[1]), fields[0], raw.replace(b"\0", b" ").decode(errors="replace").strip()
    )


def descendants(root: int | None = None) -> list[Proc]:
    """Every live (not zombie) process below `root` (default: this one), parents before children."""
    root = os.getpid() if root is None else root
    children: dict[int, list[Proc]] = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit() and (proc := _read(entry.name)) is not None:
            children.setdefault(proc.ppid, []).append(proc)
    found: list[Proc] = []
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child.state != "Z":
                found.append(child)
            todo.append(child.pid)
    return found


def own_helpers() -> set[int]:
    """multiprocessing's forkserver and resource tracker of this very process: they live as long as it
    does, by design (their children do not: a worker left running is a leak)."""
    pids = {
        getattr(multiprocessing.forkserver._forkserver, "_forkserver_pid", None),  # no public handle
        getattr(multiprocessing.resource_tracker._resource_tracker, "_pid", None),
    }
    return {pid for pid in pids if pid}


def leftovers(before: set[int], *, grace: float) -> list[Proc]:
    """Processes below this one that were not running in `before` and are still running after waiting up
    to `grace` seconds for them to end (a stopped program's helpers take a moment to notice)."""
    deadline = time.monotonic() + grace
    while True:
        helpers = own_helpers()
        left = [p for p in descendants() if p.pid not in before and p.pid not in helpers]
        if not left or time.monotonic() >= deadline:
            return left
        time.sleep(0.05)


def kill(procs: list[Proc]) -> None:
    for proc in procs:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGKILL)
