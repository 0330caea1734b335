"""Concurrency limits for outgoing HTTP: a bound on requests overall and per host; the fetcher uses them.

A request first takes its host's slot, then a global one, so requests queued behind one slow host never
hold global slots that other hosts could use. Host semaphores are created on demand and dropped when idle.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit


def host_key(url: str) -> str:
    """The unit of per-host politeness: scheme-less host and port (`example.com:443`)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:  # a garbled port: the URL will fail anyway; keep it in its own bucket
        port = 0
    return f"{host}:{port}"


class HostLimiter:
    """At most `total` concurrent holders overall and `per_host` for any one host."""

    def __init__(self, total: int, per_host: int) -> None:
        if total < 1 or per_host < 1:
            raise ValueError("concurrency limits must be at least 1")
        self.total = total
        self.per_host = per_host
        self._global = asyncio.Semaphore(total)
        self._hosts: dict[str, tuple[asyncio.Semaphore, list[int]]] = {}
        self.active = 0
        self.peak = 0

    def _host(self, key: str) -> tuple[asyncio.Semaphore, list[int]]:
        entry = self._hosts.get(key)
        if entry is None:
            entry = (asyncio.Semaphore(self.per_host), [0])
            self._hosts[key] = entry
        return entry

    @asynccontextmanager
    async def slot(self, url: str) -> AsyncIterator[None]:
        """Hold one request slot for `url`'s host for the duration of the block."""
        key = host_key(url)
        sem, users = self._host(key)
        users[0] += 1
        try:
            async with sem, self._global:
                self.active += 1
                self.peak = max(self.peak, self.active)
                try:
                    yield
                finally:
                    self.active -= 1
        finally:
            users[0] -= 1
            if users[0] == 0:
                self._hosts.pop(key, None)

    def busy_hosts(self) -> int:
        """How many hosts have a request running or waiting (for tests and diagnostics)."""
        return len(self._hosts)
