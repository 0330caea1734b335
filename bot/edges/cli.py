"""The `newsbot` command line: run, migrate and the operator's shell commands. Errors print one line.

Each sub-command's parser names its handler (`set_defaults(handler=...)`). The feed, stats and topic
commands live beside this module; commands of other packages (the sandbox's `newsbot sandbox`) come in
through the `newsbot.commands` entry point group, so the product never imports them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from importlib.metadata import entry_points

import structlog

from bot import __version__
from bot.adapters.db import Database
from bot.core.errors import NewsbotError
from bot.edges.cli_audit import add_audit_parser
from bot.edges.cli_backup import add_backup_parser
from bot.edges.cli_feeds import add_feed_parsers
from bot.edges.cli_runner import Command, fail, wait_for_signal
from bot.edges.cli_stats import add_stats_parser
from bot.edges.cli_topics import add_topics_parser
from bot.logs import configure_logging, register_secret
from bot.settings import Settings, load_settings

log = structlog.get_logger(__name__)

PLUGIN_GROUP = "newsbot.commands"  # entry points: callables that add sub-parsers (pyproject.toml)


async def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    from bot.edges.app import serve  # noqa: PLC0415 - keep `newsbot migrate` free of telegram imports

    if not settings.token:
        return fail(
            "BOT_TOKEN is not set. Get a token from @BotFather (see README), "
            "or try the bot without one: `make run` / `newsbot sandbox`"
        )
    await wait_for_signal(lambda stop: serve(settings, stop))
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newsbot", description="A Telegram news-channel bot.")
    parser.add_argument("--version", action="version", version=f"newsbot {__version__}")
    parser.add_argument("--env-file", default=".env", help="settings file to read (default: .env)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = sub.add_parser("run", help="run the bot against TELEGRAM_API_URL (needs BOT_TOKEN)")
    run.set_defaults(handler=cmd_run)
    migrate = sub.add_parser("migrate", help="apply database migrations and exit")
    migrate.set_defaults(handler=cmd_migrate)
    add_feed_parsers(sub)
    add_stats_parser(sub)
    add_topics_parser(sub)
    add_audit_parser(sub)
    add_backup_parser(sub)
    for plugin in entry_points(group=PLUGIN_GROUP):
        plugin.load()(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings(args.env_file)
    except NewsbotError as exc:
        return fail(str(exc))
    register_secret(settings.token)
    configure_logging(settings.log_level, settings.log_format)
    handler: Command = args.handler
    try:
        return asyncio.run(handler(settings, args))
    except NewsbotError as exc:
        return fail(str(exc))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `newsbot preview URL | head`: the reader left; exit quietly like other tools
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
