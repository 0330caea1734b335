"""Shared pytest setup: python-telegram-bot's timedelta opt-in before anything imports telegram, and no
process outlives the test module (or the session) that started it."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.kits import processes

os.environ.setdefault("PTB_TIMEDELTA", "true")

# Orphans (a killed program's helpers) are re-parented to this process, so the checks below see them.
ADOPTING = processes.adopt_orphans()
GRACE_SECONDS = 10.0  # how long a stopped program's helpers may take to notice and end


def _check_nothing_left(before: set[int], where: str) -> None:
    if not ADOPTING:  # no /proc or no subreaper (not Linux): nothing to check with
        return
    left = processes.leftovers(before, grace=GRACE_SECONDS)
    if left:
        processes.kill(left)  # so they neither linger nor fail the next module's check
        listing = "\n".join(f"  {proc}" for proc in left)
        pytest.fail(f"{len(left)} process(es) started by {where} outlived it (now killed):\n{listing}")


def _running() -> set[int]:
    return {proc.pid for proc in processes.descendants()} if ADOPTING else set()


@pytest.fixture(scope="session", autouse=True)
def _no_process_outlives_the_suite() -> Iterator[None]:
    before = _running()
    yield
    _check_nothing_left(before, "the test session")


@pytest.fixture(scope="module", autouse=True)
def _no_process_outlives_its_module(request: pytest.FixtureRequest) -> Iterator[None]:
    before = _running()
    yield
    _check_nothing_left(before, request.module.__name__)
