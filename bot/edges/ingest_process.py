"""The ingest loop in a process of its own, at a lower CPU priority than the bot's.

Why: the bot's event loop answers readers. When the ingest cycle ran on it, every command reply queued
behind fetch responses, digests and store calls (the chat benchmark: /search p50 13 ms idle, 31 ms
while 200 feeds were read). In a child process at nice +10 the kernel gives the replies the CPU
first, and the bot's loop only serves Telegram. SQLite in WAL mode lets the child write while the bot
reads and writes (one writer at a time, `busy_timeout` on every connection).

The child is forked from multiprocessing's forkserver (no thread state of the bot is inherited), opens
its own connection to the same database file and builds the same IngestService as `newsbot ingest`.
A pipe carries short messages: child -> bot "q" (posts or DMs were queued: wake the publisher and the
fan-out), "h" (a feed's WebSub hub changed, or a feed was disabled: wake the WebSub service) and
"c<json>" (a cycle ended: its CycleSummary, for /metrics and the cycle heartbeat), bot -> child "w"
(a feed was added: run a cycle now) and "f<id>" (a ping said feed <id> changed: read it now, beside any
running cycle). The bot closing its end is the child's signal to stop; a child that dies is
reported and started again by the bot's supervisor. A database in memory cannot be shared, so with
DATABASE_PATH=:memory: the loop stays in the bot.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import multiprocessing
import os
import signal
import time
from collections.abc import Awaitable, Callable
from multiprocessing.connection import Connection
from typing import Any

import structlog

from bot.logs import configure_logging, register_secret
from bot.services.ingest import IngestService
from bot.services.ingest_ports import CycleSummary
from bot.settings import Settings

log = structlog.get_logger(__name__)

NICENESS = 10  # the parse workers the child starts add their own on top
QUEUED, WAKE, FETCH, FEEDS_CHANGED, CYCLE = b"q", b"w", b"f", b"h", b"c"
STOP_GRACE = 3.0  # seconds the child gets to finish after the bot closes the pipe
# Builds the child's IngestService on its own database connection; returns it and its closer. A
# module-level function (pickled by name), from the composition root.
OpenIngest = Callable[[Settings], Awaitable[tuple[IngestService, Callable[[], Awaitable[None]]]]]


class IngestProcess:
    """Runs `IngestService.loop` in a child process; `loop` has the shape of a runtime background task."""

    def __init__(
        self, settings: Settings, open_ingest: OpenIngest, on_queued: list[Callable[[], object]]
    ) -> None:
        self.settings = settings
        self.open_ingest = open_ingest
        self.on_queued = on_queued
        self.on_feeds_changed: list[Callable[[], object]] = []  # the child's `on_feeds_changed`
        self.on_cycle: list[Callable[[CycleSummary], object]] = []  # the child's `on_cycle`, summarised
        self.last_cycle_at: float | None = None  # time.monotonic() of the child's last finished cycle
        self._conn: Connection | None = None

    @property
    def running(self) -> bool:
        """The child process is up (its pipe is open)."""
        return self._conn is not None

    def wake(self) -> None:
        """Ask the child for a cycle now (a feed was added); a child not running starts with one anyway."""
        self._send(WAKE)

    def fetch(self, feed_id: int) -> None:
        """Ask the child to read one feed now (`IngestService.fetch_soon` there)."""
        self._send(FETCH + str(feed_id).encode())

    def _send(self, message: bytes) -> None:
        if self._conn is not None:
            with contextlib.suppress(OSError):
                self._conn.send_bytes(message)

    async def loop(self, bot: Any, stop: asyncio.Event) -> None:
        context = multiprocessing.get_context("forkserver")
        ours, theirs = context.Pipe(duplex=True)
        process = context.Process(
            target=child_main, args=(self.settings, theirs, self.open_ingest), name="newsbot-ingest"
        )
        try:  # the first start launches the forkserver: not on the loop
            await asyncio.to_thread(process.start)
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        self._conn = ours
        loop = asyncio.get_running_loop()
        exited = asyncio.Event()
        loop.add_reader(ours.fileno(), self._on_message, ours, exited)
        log.info("ingest_process_started", pid=process.pid)
        try:
            waiters = [asyncio.create_task(stop.wait()), asyncio.create_task(exited.wait())]
            try:
                await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in waiters:
                    waiter.cancel()
        finally:
            loop.remove_reader(ours.fileno())
            self._conn = None
            ours.close()  # the child's cue to stop
            await asyncio.to_thread(_reap, process)
        if not stop.is_set():  # the child died: the supervisor logs this and starts another
            raise RuntimeError(f"ingest process exited with code {process.exitcode}")

    def _on_message(self, conn: Connection, exited: asyncio.Event) -> None:
        try:
            message = conn.recv_bytes()
        except (EOFError, OSError):
            exited.set()
            return
        if message == QUEUED:
            for callback in self.on_queued:
                callback()
        elif message == FEEDS_CHANGED:
            for callback in self.on_feeds_changed:
                callback()
        elif message.startswith(CYCLE):
            self.last_cycle_at = time.monotonic()
            try:
                summary = CycleSummary(**json.loads(message[1:]))
            except (ValueError, TypeError):
                return
            for notify in self.on_cycle:
                notify(summary)


def _reap(process: multiprocessing.process.BaseProcess) -> None:
    process.join(STOP_GRACE)
    if process.is_alive():
        log.warning("ingest_process_terminated", pid=process.pid)
        process.terminate()
        process.join(1.0)
    if process.is_alive():
        process.kill()
        process.join()


def child_main(settings: Settings, conn: Connection, open_ingest: OpenIngest) -> None:
    """The child: lower priority, the bot's logging, then the ingest loop until the pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the bot, which closes the pipe
    with contextlib.suppress(OSError):
        os.nice(NICENESS)
    register_secret(settings.token)
    configure_logging(settings.log_level, settings.log_format)
    asyncio.run(_child_loop(settings, conn, open_ingest))


async def _child_loop(settings: Settings, conn: Connection, open_ingest: OpenIngest) -> None:
    stop = asyncio.Event()
    ingest, close = await open_ingest(settings)
    try:

        def tell(message: bytes) -> None:
            try:
                conn.send_bytes(message)
            except OSError:
                stop.set()  # the bot is gone

        def on_message() -> None:
            try:
                message = conn.recv_bytes()
            except (EOFError, OSError):
                stop.set()
                return
            if message == WAKE:
                ingest.wake()
            elif message.startswith(FETCH) and message[1:].isdigit():
                ingest.fetch_soon(int(message[1:]))

        ingest.on_queued.append(lambda: tell(QUEUED))
        ingest.on_feeds_changed.append(lambda: tell(FEEDS_CHANGED))
        ingest.on_cycle.append(lambda summary: tell(CYCLE + json.dumps(dataclasses.asdict(summary)).encode()))
        loop = asyncio.get_running_loop()
        loop.add_reader(conn.fileno(), on_message)
        # a supervisor stopping the service signals every process in it (systemd's control group)
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        await ingest.loop(None, stop)
    finally:
        await close()
