"""Memory and CPU of a process and all its descendants, sampled from outside through Linux's /proc.

The parse pool's workers are children of a forkserver, itself a child of the bot, so neither
`getrusage(RUSAGE_CHILDREN)` (only reaped children, largest one only) nor the process's own maxrss sees
them; summing the tree's memory every few tens of milliseconds does. Used by the ingest section for both
sides, so newsbot and reader are measured the same way. No dependency (psutil is not installed).
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_PAGE = os.sysconf("SC_PAGE_SIZE")
_TICKS = os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            text = (task / "children").read_text()
            found.extend(int(p) for p in text.split())
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return found


def descendants(pid: int) -> list[int]:
    """`pid` and every process below it."""
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        todo.extend(_children(current))
    return out


def _stat(pid: int, path: str = "/proc/{pid}/stat") -> tuple[int, float] | None:
    """(RSS bytes, CPU seconds user+system) of one process (or thread), None once it is gone."""
    try:
        fields = Path(path.format(pid=pid)).read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # fields[0] is field 3 (state): utime is field 14, stime 15, rss 24
    cpu = (int(fields[11]) + int(fields[12])) / _TICKS
    return int(fields[21]) * _PAGE, cpu


def _pss(pid: int) -> int | None:
    """Proportional set size in bytes: shared pages (the forkserver's children share most of theirs)
    are divided among the processes sharing them, so summing a tree does not count them twice."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return None


@dataclass
class TreeSampler:
    """Samples a process tree in a thread: the peak of its summed memory (PSS; RSS where PSS is not
    readable), and each process's last CPU time."""

    pid: int
    interval: float = 0.05
    peak_bytes: int = 0
    peak_processes: int = 0
    cpu: dict[int, float] = field(default_factory=dict)
    main_thread_cpu: float = 0.0  # the root process's first thread: the event loop, for newsbot
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def sample(self) -> None:
        total, alive = 0, 0
        for pid in descendants(self.pid):
            stat = _stat(pid)
            if stat is None:
                continue
            rss, cpu = stat
            total += _pss(pid) or rss
            alive += 1
            self.cpu[pid] = cpu
        thread = _stat(self.pid, f"/proc/{self.pid}/task/{self.pid}/stat")
        if thread is not None:
            self.main_thread_cpu = thread[1]
        if total > self.peak_bytes:
            self.peak_bytes, self.peak_processes = total, alive

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def start(self) -> TreeSampler:
        self.sample()
        self._thread = threading.Thread(target=self._run, name="tree-sampler", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    @property
    def peak_mib(self) -> float:
        return self.peak_bytes / 1048576

    @property
    def cpu_seconds(self) -> float:
        return sum(self.cpu.values())


def run_sampled(argv: list[str], *, timeout: float, cwd: Path | None = None) -> tuple[str, TreeSampler]:
    """Run a command to its end while sampling its process tree; returns (stdout, sampler).

    Raises RuntimeError with the command's last stderr line when it fails or overruns `timeout`.
    """
    # its own session, so an overrun kills the command's parse workers too, and nothing else
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd, start_new_session=True
    )
    sampler = TreeSampler(proc.pid).start()
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise RuntimeError(f"{' '.join(argv[1:3])} took longer than {timeout:g} s") from None
    finally:
        sampler.stop()
    if proc.returncode != 0:
        last = (err.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"{' '.join(argv[1:3])} failed (exit {proc.returncode}): {last}")
    return out, sampler


def _kind(pid: int, root: int, parent_kind: str | None) -> str:
    """What a process in the bot's tree is, from its command line and its parent's kind."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except (FileNotFoundError, ProcessLookupError):
        return "gone"
    if pid == root:
        return "bot"
    if b"resource_tracker" in cmdline:
        return "resource tracker"
    # The bot's forkserver starts the ingest process; the ingest process's own starts the parse workers
    # (a forkserver's children run its command line).
    if parent_kind == "forkserver":
        return "ingest"
    if parent_kind in ("parse forkserver", "ingest") and b"forkserver" in cmdline:
        return "parse worker" if parent_kind == "parse forkserver" else "parse forkserver"
    if b"forkserver" in cmdline:
        return "forkserver"
    return "other"


def tree_pss(root: int) -> dict[str, Any]:
    """The PSS of `root` and every process below it: {"mib": total, "processes": [(kind, mib), …]}."""
    processes: list[tuple[str, float]] = []
    todo: list[tuple[int, str | None]] = [(root, None)]
    while todo:
        pid, parent_kind = todo.pop(0)
        kind = _kind(pid, root, parent_kind)
        pss = _pss(pid)
        if pss is None or kind == "gone":
            continue
        processes.append((kind, round(pss / 1048576, 1)))
        todo.extend((child, kind) for child in _children(pid))
    return {"mib": round(sum(m for _, m in processes), 1), "processes": processes}
