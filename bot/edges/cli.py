"""The `newsbot` command line: run, migrate and the operator's shell commands. Errors print one line."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from collections.abc import Callable, Coroutine
from typing import Any

import structlog

from bot import __version__
from bot.adapters.db import Database
from bot.core.errors import NewsbotError
from bot.edges.cli_feeds import COMMANDS as FEED_COMMANDS
from bot.edges.cli_feeds import add_feed_parsers
from bot.edges.cli_stats import add_stats_parser, cmd_stats
from bot.edges.cli_topics import add_topics_parser, cmd_topics
from bot.logs import configure_logging, register_secret, scrub
from bot.settings import Settings, load_settings

log = structlog.get_logger(__name__)

Command = Callable[[Settings, argparse.Namespace], Coroutine[Any, Any, int]]


def _fail(message: str) -> int:
    print(f"newsbot: error: {scrub(message)}", file=sys.stderr)  # an error may quote a URL with the token
    return 2


async def _wait_for_signal(main: Callable[[asyncio.Event], Coroutine[Any, Any, None]]) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await main(stop)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


async def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    from bot.edges.app import serve  # noqa: PLC0415 - keep `newsbot migrate` free of telegram imports

    if not settings.token:
        return _fail(
            "BOT_TOKEN is not set. Get a token from @BotFather (see README), "
            "or try the bot without one: `make run` / `newsbot sandbox`"
        )
    await _wait_for_signal(lambda stop: serve(settings, stop))
    return 0


async def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    db = Database(settings.database_path)
    await db.open(migrate=False)
    try:
        before = await db.user_version()
        applied = await db.migrate()
        after = await db.user_version()
    finally:
        await db.close()
    print(f"database {settings.database_path}: schema version {before} -> {after} ({len(applied)} applied)")
    return 0


COMMANDS: dict[str, Command] = {"run": cmd_run, "migrate": cmd_migrate}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newsbot", description="A Telegram news-channel bot.")
    parser.add_argument("--version", action="version", version=f"newsbot {__version__}")
    parser.add_argument("--env-file", default=".env", help="settings file to read (default: .env)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("run", help="run the bot against TELEGRAM_API_URL (needs BOT_TOKEN)")
    sub.add_parser("migrate", help="apply database migrations and exit")
    for extend in EXTENSIONS:
        extend(sub)
    return parser


# Later modules register their sub-commands here (feeds, ingest, preview, stats, sandbox).
EXTENSIONS: list[Callable[[Any], None]] = []


async def cmd_sandbox(settings: Settings, args: argparse.Namespace) -> int:
    from bot.edges.sandbox import run_sandbox_command  # noqa: PLC0415 - aiohttp and telegram only when used

    await _wait_for_signal(lambda stop: run_sandbox_command(settings, args, stop))
    return 0


def _port(value: str) -> int:
    port = int(value)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError("a port is 0..65535 (0 picks a free one)")
    return port


def _add_sandbox(sub: Any) -> None:
    sandbox = sub.add_parser(
        "sandbox", help="try the bot without a token: local Telegram stand-in, sample feeds and a live page"
    )
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


COMMANDS["sandbox"] = cmd_sandbox
EXTENSIONS.append(_add_sandbox)


COMMANDS.update(FEED_COMMANDS)
EXTENSIONS.append(add_feed_parsers)
COMMANDS["stats"] = cmd_stats
EXTENSIONS.append(add_stats_parser)
COMMANDS["topics"] = cmd_topics
EXTENSIONS.append(add_topics_parser)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings(args.env_file)
    except NewsbotError as exc:
        return _fail(str(exc))
    register_secret(settings.token)
    configure_logging(settings.log_level, settings.log_format)
    handler = COMMANDS[args.command]
    try:
        return asyncio.run(handler(settings, args))
    except NewsbotError as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `newsbot preview URL | head`: the reader left; exit quietly like other tools
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
