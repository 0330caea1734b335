"""What a sample site or the local hub needs to talk to others: one lazy HTTP session, and background
tasks that are cancelled (and the session closed) when the sandbox stops."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import aiohttp


class Outbound:
    def __init__(self, *, timeout: float, headers: dict[str, str] | None = None) -> None:
        self.timeout = timeout
        self.headers = headers or {}
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout), headers=self.headers
            )
        return self._session

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run `work` in the background, kept until it ends or `close` cancels it."""
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None
