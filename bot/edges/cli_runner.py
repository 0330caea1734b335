"""How one `newsbot` shell command runs: its handler type, one-line failures and stopping on a signal.

The command modules (`cli`, `cli_feeds`, `cli_stats`, `cli_topics`, and commands other packages register
through the `newsbot.commands` entry point group) import this; it imports none of them.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from bot.logs import scrub
from bot.settings import Settings

# A sub-command's handler: each sub-parser sets it with `set_defaults(handler=...)`.
Command = Callable[[Settings, argparse.Namespace], Coroutine[Any, Any, int]]


def fail(message: str) -> int:
    """Print `message` as the one error line (scrubbed: an error may quote a URL with the token); exit 2."""
    print(f"newsbot: error: {scrub(message)}", file=sys.stderr)
    return 2


async def wait_for_signal(main: Callable[[asyncio.Event], Coroutine[Any, Any, None]]) -> None:
    """Run `main(stop)` with SIGINT and SIGTERM setting `stop`, so it can finish its work and return."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await main(stop)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
