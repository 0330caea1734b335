"""`newsbot sandbox`: the sub-command, registered with the CLI through the `newsbot.commands` entry point.

The product's CLI (`bot.edges.cli`) never imports the sandbox: it loads whatever the entry point group
names (pyproject.toml), and this module adds its parser. Running it (`run.py`) imports aiohttp and
python-telegram-bot, so that waits until the command is chosen.
"""

from __future__ import annotations

import argparse
from typing import Any

from bot.edges.cli_runner import wait_for_signal
from bot.settings import Settings


async def cmd_sandbox(settings: Settings, args: argparse.Namespace) -> int:
    from bot.sandbox.run import run_sandbox_command  # noqa: PLC0415 - aiohttp and telegram only when used

    await wait_for_signal(lambda stop: run_sandbox_command(settings, args, stop))
    return 0


def _port(value: str) -> int:
    port = int(value)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError("a port is 0..65535 (0 picks a free one)")
    return port


def add_sandbox_parser(sub: Any) -> None:
    """The entry point: adds `sandbox` to the CLI's sub-commands."""
    sandbox = sub.add_parser(
        "sandbox", help="try the bot without a token: local Telegram stand-in, sample feeds and a live page"
    )
    sandbox.set_defaults(handler=cmd_sandbox)
    sandbox.add_argument(
        "--port",
        type=_port,
        default=8080,
        help="the page's port on 127.0.0.1 (default 8080, a free one if busy)",
    )
    sandbox.add_argument(
        "--feed-interval",
        type=float,
        default=8.0,
        metavar="SECONDS",
        help="seconds between new sample stories",
    )
