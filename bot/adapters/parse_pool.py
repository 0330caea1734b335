"""Runs feed and page parsing in worker processes, so feedparser's CPU never stalls the event loop.

What parsing means is `bot/core/digest.py`'s; this module owns the processes: started lazily (one per
CPU unless told otherwise, from a forkserver, so no thread state of the bot is ever forked) at a lower
CPU priority than the bot, restarted after a crash, a stuck worker killed after `timeout`, and shut
down by the runtime's closer. feedparser holds the GIL for tens of milliseconds per big feed, which is why
threads would not do (FEEDS.md).

Workers end with their owner, however it ends: each holds the read end of a pipe whose only write end
is the owner's, and exits when that pipe closes. Without it, an owner killed with SIGKILL (or dying
without `shutdown`) left its workers blocked on their task queue forever, and with them the forkserver
(each forkserver child keeps it alive).

The workers live only while there is parsing to do: `idle_seconds` after the last parse the pool is shut
down, and with `stop_forkserver` (the process's only use of multiprocessing's forkserver, as in the ingest
process) the forkserver with it; the next parse starts them again (a few hundred ms, in a thread). An idle
`newsbot run` with 50 feeds held 162 MiB PSS with its workers kept, about 120 without (make bench's
footprint section).

Errors come back as values, not pickled exceptions: our exceptions take keyword arguments that pickle
cannot rebuild, and a failed unpickle would break the whole pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import functools
import gc
import multiprocessing
import multiprocessing.forkserver
import os
import signal
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime
from multiprocessing.connection import Connection
from typing import Any

import structlog

from bot.core.digest import FeedDigest, digest_body, digest_page
from bot.core.errors import FeedParseError
from bot.core.pagemeta import PageMeta

log = structlog.get_logger(__name__)

WORKER_NICENESS = 10
_Outcome = tuple[bool, Any]  # (True, value) or (False, one-line reason)


def _in_worker(fn: Callable[..., Any], /, **kwargs: Any) -> _Outcome:
    """Runs in the worker: the function's value, or its failure as a one-line reason."""
    try:
        return True, fn(**kwargs)
    except FeedParseError as exc:
        return False, exc.reason
    except Exception as exc:  # noqa: BLE001 - a parser bug on odd bytes must fail one feed, not the pool
        detail = str(exc).splitlines()[0][:200] if str(exc) else ""
        return False, f"parser failed: {type(exc).__name__}: {detail}".rstrip(": ")


def _init_worker(owner: Connection) -> None:
    """Workers yield the CPU to the bot's own process, so a burst of parsing never starves the event
    loop on a busy machine (they still use every idle cycle). Ctrl+C reaches the whole process group:
    workers ignore it and are shut down by the bot, instead of each printing a KeyboardInterrupt.
    A thread waits on `owner` and ends the worker when the pool's owner is gone."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(OSError):
        os.nice(WORKER_NICENESS)
    threading.Thread(target=_exit_with_owner, args=(owner,), name="owner-watch", daemon=True).start()


def _exit_with_owner(owner: Connection) -> None:
    """Blocks until the owner's end of the pipe closes (it never writes), then ends this process at once:
    a parse in progress has nobody left to return to."""
    with contextlib.suppress(EOFError, OSError):
        owner.recv_bytes()
    os._exit(0)


def _main_imports() -> list[str]:
    """The modules every new worker would import before its first task, for the forkserver to import once.

    multiprocessing runs the parent's main module again in each new worker (`spawn.prepare`), and with it
    everything that module imports: for `newsbot` (its main is bot.edges.cli) or the ingest benchmark's
    side process, the whole bot, about 0.3 CPU-seconds per worker spent at the start of the first cycle,
    while the loop is fetching. Imported in the forkserver first, they are loaded in every worker forked
    from it (and their pages shared).
    """
    main = sys.modules.get("__main__")
    name = getattr(getattr(main, "__spec__", None), "name", None)
    if name:  # `python -m package.module` (a package's __main__ is not run again: spawn skips it)
        return [] if name == "__main__" or name.endswith(".__main__") else [name]
    if main is None or not getattr(main, "__file__", None):
        return []  # `python -c`, an interactive session, a forkserver's own main: nothing is run again
    found = {getattr(v, "__module__", None) for k, v in vars(main).items() if not k.startswith("__")}
    return sorted(
        m for m in found if isinstance(m, str) and m in sys.modules and m not in ("__main__", "builtins")
    )


class ParsePool:
    """`digest` and `page` run in a process pool; bodies under `inline_below` bytes are parsed inline."""

    def __init__(
        self,
        workers: int = 0,
        *,
        timeout: float = 60.0,
        inline_below: int = 0,
        idle_seconds: float = 0.0,
        stop_forkserver: bool = False,
    ) -> None:
        self.workers = workers or os.cpu_count() or 1
        self.timeout = timeout
        self.inline_below = inline_below
        self.idle_seconds = idle_seconds  # 0 = keep the workers until `close`
        self.stop_forkserver = stop_forkserver
        self._executor: ProcessPoolExecutor | None = None
        self._alive: dict[ProcessPoolExecutor, Connection] = {}  # our end of each pool's pipe (see above)
        self._starting = asyncio.Lock()
        self._busy = 0  # parses submitted or waiting for the pool
        self._idle_timer: asyncio.TimerHandle | None = None
        self._stopping: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        """The worker processes are up (or being stopped)."""
        return self._executor is not None or self._stopping is not None

    async def _pool(self) -> ProcessPoolExecutor:
        """The running pool, started in a thread when there is none: starting the forkserver (which
        imports the parser first) and forking the workers blocks for a few hundred ms, too long for the
        event loop (the ingest benchmark saw 250-500 ms stalls when the first feed started the pool)."""
        async with self._starting:
            if self._executor is None:
                self._executor = await asyncio.to_thread(self._start)
            return self._executor

    def _start(self) -> ProcessPoolExecutor:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["bot.adapters.parse_pool", *_main_imports()])
        watched, alive = context.Pipe(duplex=False)
        executor = ProcessPoolExecutor(
            self.workers, mp_context=context, initializer=_init_worker, initargs=(watched,)
        )
        self._alive[executor] = alive
        # A submit with no idle worker forks one, in the submitting thread: fork them all here.
        try:
            for future in [executor.submit(os.getpid) for _ in range(self.workers)]:
                future.result()
        except BrokenProcessPool:
            executor.shutdown(wait=False, cancel_futures=True)
            self._release_workers(executor)
            raise
        log.debug("parse_pool_started", workers=self.workers)
        return executor

    def _release_workers(self, executor: ProcessPoolExecutor) -> None:
        """Close our end of `executor`'s pipe: any of its workers still running (stuck, or left by a
        shutdown that did not wait) exits."""
        alive = self._alive.pop(executor, None)
        if alive is not None:
            alive.close()

    async def digest(
        self,
        body: bytes,
        *,
        url: str,
        content_type: str | None,
        now: datetime,
        fallback_source: str | None = None,
        dek_max_chars: int = 300,
    ) -> FeedDigest:
        """`digest_body` in a worker; FeedParseError with a one-line reason when it fails."""
        value = await self._run(
            url,
            len(body),
            functools.partial(
                _in_worker,
                digest_body,
                body=body,
                url=url,
                content_type=content_type,
                now=now,
                fallback_source=fallback_source,
                dek_max_chars=dek_max_chars,
            ),
        )
        if not isinstance(value, FeedDigest):
            raise FeedParseError(url, f"parser returned {type(value).__name__}")
        return value

    async def page(self, body: bytes, *, url: str, content_type: str | None) -> PageMeta:
        """`digest_page` in a worker (an article page's og:description and image)."""
        value = await self._run(
            url,
            len(body),
            functools.partial(_in_worker, digest_page, body=body, url=url, content_type=content_type),
        )
        if not isinstance(value, PageMeta):
            raise FeedParseError(url, f"page parser returned {type(value).__name__}")
        return value

    async def _run(self, url: str, size: int, call: Callable[[], _Outcome]) -> Any:
        if size < self.inline_below:
            ok, value = call()
        else:
            self._busy += 1
            if self._idle_timer is not None:
                self._idle_timer.cancel()
                self._idle_timer = None
            try:
                ok, value = await self._in_pool(url, call)
            finally:
                self._busy -= 1
                if self._busy == 0 and self.idle_seconds > 0:
                    loop = asyncio.get_running_loop()
                    self._idle_timer = loop.call_later(self.idle_seconds, self._on_idle)
        if not ok:
            raise FeedParseError(url, str(value))
        return value

    def _on_idle(self) -> None:
        self._idle_timer = None
        if self._busy == 0 and self._executor is not None and self._stopping is None:
            self._stopping = asyncio.get_running_loop().create_task(self._stop_idle())

    async def _stop_idle(self) -> None:
        """Shut the idle workers down (and the forkserver, if it is ours alone); a parse arriving
        meanwhile waits for the pool lock and starts a fresh pool."""
        try:
            async with self._starting:
                if self._busy or self._executor is None:
                    return
                await asyncio.to_thread(self.shutdown)
                await asyncio.to_thread(_give_back_memory)
                log.debug("parse_pool_stopped_idle", idle_seconds=self.idle_seconds)
        finally:
            self._stopping = None

    async def _in_pool(self, url: str, call: Callable[[], _Outcome]) -> _Outcome:
        """`call` in a worker, the pool started first if needed; a stuck or dead pool is replaced."""
        try:
            executor = await self._pool()
        except BrokenProcessPool:
            raise FeedParseError(url, "the parser processes could not be started") from None
        try:  # a pool whose worker died raises BrokenProcessPool on submit or on the result
            future = asyncio.get_running_loop().run_in_executor(executor, call)
            async with asyncio.timeout(self.timeout):
                ok, value = await future
        except TimeoutError:
            self._discard(executor, kill=True)
            raise FeedParseError(url, f"parsing took longer than {self.timeout:g} s") from None
        except BrokenProcessPool:
            self._discard(executor, kill=False)
            raise FeedParseError(url, "the parser process died (crash or out of memory)") from None
        return ok, value

    def _discard(self, executor: ProcessPoolExecutor, *, kill: bool) -> None:
        """Drop a broken or stuck pool; the next call starts a fresh one."""
        if self._executor is executor:
            self._executor = None
        if kill:
            # ProcessPoolExecutor cannot cancel a running call; ending its processes is the only way.
            for process in list(executor._processes.values()):  # no public handle exists
                process.kill()
        executor.shutdown(wait=False, cancel_futures=True)
        self._release_workers(executor)
        log.warning("parse_pool_restarted", killed=kill)

    def shutdown(self) -> None:
        """Stop the workers, waiting for them (blocking: from async code use `close`); with
        `stop_forkserver`, the forkserver too."""
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
            self._release_workers(executor)
            if self.stop_forkserver:
                _stop_forkserver()

    async def close(self) -> None:
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None
        if self._stopping is not None:
            await self._stopping
        await asyncio.to_thread(self.shutdown)


def _give_back_memory() -> None:
    """The process is going idle: collect garbage and hand glibc's free heap pages back to the system
    (a cycle's parsed feeds leave several MiB of freed but mapped arenas; make bench's footprint)."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim(0)


def _stop_forkserver() -> None:
    """End this process's forkserver (it holds ~10 MiB doing nothing); multiprocessing starts a new one on
    the next pool. Its only public stop is for its own tests (`_stop`), hence the guard."""
    server = getattr(multiprocessing.forkserver, "_forkserver", None)
    stop = getattr(server, "_stop", None)
    if callable(stop):
        with contextlib.suppress(OSError, ChildProcessError):
            stop()
