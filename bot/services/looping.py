"""The shape of a periodic service loop: do a step, log (never raise) what broke it, then wait for the
next period, an early wake-up or the stop. Used by the review, digest and backup loops."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import structlog

__all__ = ["every"]

log = structlog.get_logger(__name__)


async def every(
    step: Callable[[], Awaitable[object]],
    stop: asyncio.Event,
    *,
    seconds: float,
    name: str,
    wake: asyncio.Event | None = None,
) -> None:
    """Run `step` until `stop` is set: again after `seconds`, or as soon as `wake` is set."""
    while not stop.is_set():
        try:
            await step()
        except Exception as exc:
            log.exception("service_step_failed", service=name, error=repr(exc))
        waiters = [asyncio.ensure_future(stop.wait())]
        if wake is not None:
            waiters.append(asyncio.ensure_future(wake.wait()))
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
            await asyncio.gather(*waiters, return_exceptions=True)
        if wake is not None:
            wake.clear()
