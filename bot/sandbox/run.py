"""`newsbot sandbox`: the real bot against a local Telegram stand-in, sample feeds and a live page; no token.

This module wires the parts and runs them until stopped; the sample sites are `site`/`feeds`,
the page is `page`/`controls`, the Telegram stand-in is `bot.sandbox.botapi`. The bot's HTTP server is on
(a free loopback port, PUBLIC_URL pointing at it): one sample site pushes through the WebSub hub at /hub
(`websub_hub`), one pings the bot like WordPress, one is only polled (`announce`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import socket
import sys
import tempfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import structlog
from aiohttp import web
from pydantic import SecretStr

from bot.adapters.db import Database
from bot.adapters.repo_topics import TopicRepo
from bot.core.errors import ConfigError
from bot.core.models import Topic
from bot.core.timeutil import utcnow
from bot.edges.app import serve
from bot.logs import configure_logging
from bot.sandbox.announce import Announcer
from bot.sandbox.botapi import LocalBotAPI
from bot.sandbox.controls import Identity, SandboxControls
from bot.sandbox.feeds import Newsroom, run_ticker
from bot.sandbox.page import add_page_routes
from bot.sandbox.site import add_site_routes
from bot.sandbox.stories import PUBLICATIONS
from bot.sandbox.websub_hub import LocalHub
from bot.settings import Settings

log = structlog.get_logger(__name__)

SANDBOX_TOKEN = "1000001:sandbox-token-that-only-the-local-stand-in-accepts"  # noqa: S105 - not a secret
SANDBOX_CHANNEL_ID = -1001000000001
SANDBOX_CHANNEL = "newsbot_sandbox"
SANDBOX_EDITORS_ID = -1001000000002  # the editors' group: review previews and reader tips
SANDBOX_GROUP_ID = -1001000000003  # a readers' group the reader owns: the bot is added to it at start
ADMIN = Identity("admin", 5550001, "Alex (admin)", "alex_admin")
READER = Identity("reader", 5550002, "Sam (reader)", "sam_reads")
DEFAULT_PORT = 8080
SANDBOX_BACKFILL = 4  # posts per feed on the first sync, so the channel is not empty at start
HUB_PATH = "/hub"  # the sample sites' WebSub hub, on the sandbox's own server


# Topics a visitor can follow at once (/topics, /subscribe, deep links, the "Follow" buttons under posts),
# matched on the sample stories' categories; an admin adds more with /addtopic.
SANDBOX_TOPICS: tuple[Topic, ...] = (
    Topic("technology", "Gadgets, software and start-ups", categories=("Technology", "Software", "Startups")),
    Topic(
        "science", "Space, physics, life and the brain", categories=("Space", "Physics", "Biology", "Brain")
    ),
    Topic("climate", "Climate, energy and weather", categories=("Climate", "Energy", "Weather")),
    Topic("money", "Markets, business and trade", categories=("Markets", "Economy", "Business", "Trade")),
)


async def seed_topics(db_path: Path) -> int:
    """Save the sample topics into a database that has none yet; returns how many were added."""
    async with Database(db_path) as db:
        repo = TopicRepo(db)
        if await repo.all():
            return 0
        for topic in SANDBOX_TOPICS:
            await repo.save(topic, utcnow())
        return len(SANDBOX_TOPICS)


@dataclass(frozen=True, slots=True)
class SandboxOptions:
    port: int = DEFAULT_PORT
    feed_interval: float = 8.0  # seconds between new sample stories
    poll_interval: int = 10  # the bot's POLL_INTERVAL_SECONDS (the settings' minimum)


def sandbox_settings(
    base: Settings, *, api_url: str, site: str, db_path: Path, poll_interval: int, bot_url: str
) -> Settings:
    """The user's settings with everything Telegram- and feed-related pointed at the sandbox, and the bot's
    HTTP server on at `bot_url` (a free loopback port) for the sample sites' pings and WebSub pushes."""
    return base.model_copy(
        update={
            "http_listen": bot_url.removeprefix("http://"),
            "public_url": bot_url,
            "bot_token": SecretStr(SANDBOX_TOKEN),
            "telegram_api_url": api_url,
            "channel_id": str(SANDBOX_CHANNEL_ID),
            "admin_ids": [ADMIN.user_id],
            "review_chat_id": str(SANDBOX_EDITORS_ID),
            "feeds": [f"{site}/{pub.key}/{pub.feed_path}" for pub in PUBLICATIONS],
            "poll_interval_seconds": poll_interval,
            # the sample sites publish every few seconds: let the adaptive schedule keep up with them
            "min_poll_interval_seconds": min(base.min_poll_interval_seconds, poll_interval),
            "backfill_max_posts": max(base.backfill_max_posts, SANDBOX_BACKFILL),
            "database_path": db_path,
            # the posts show their topic's "Follow" button unless the visitor chose otherwise
            "post_buttons": base.post_buttons if "post_buttons" in base.model_fields_set else "topic",
        }
    )


def _free_port() -> int:
    """A loopback port nothing listens on now, for the bot's HTTP server."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _bind(port: int) -> socket.socket:
    """A listening socket on 127.0.0.1:`port`, or on a free port when that one is taken."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError as exc:
        if port == 0 or exc.errno != errno.EADDRINUSE:
            sock.close()
            raise
        log.warning("sandbox_port_busy", port=port, fallback="a free port")
        sock.bind(("127.0.0.1", 0))
    return sock


@contextlib.asynccontextmanager
async def _web_server(app: web.Application, port: int) -> AsyncIterator[str]:
    """Serve `app` on loopback; yields its origin, http://127.0.0.1:PORT."""
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    sock = _bind(port)
    try:
        await web.SockSite(runner, sock).start()
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        await runner.cleanup()
        sock.close()


def _register_chats(api: LocalBotAPI) -> None:
    """The sandbox channel (the admin owns it, the bot is an admin), the editors' group, a readers' group the
    reader owns (the bot joins it at start) and the two people's private chats."""
    api.add_chat(
        SANDBOX_CHANNEL_ID,
        username=SANDBOX_CHANNEL,
        title="Newsbot Sandbox",
        admins={ADMIN.user_id: "creator"},
    )
    api.add_chat(
        SANDBOX_EDITORS_ID, title="Newsroom editors", type="supergroup", admins={ADMIN.user_id: "creator"}
    )
    api.add_chat(  # the bot joins when the sandbox starts (add_bot_to_group), as a member
        SANDBOX_GROUP_ID,
        title="Sam's readers' group",
        type="supergroup",
        bot_status="left",
        admins={READER.user_id: "creator"},
    )
    for who in (ADMIN, READER):
        api.add_user(who.user_id, username=who.username, first_name=who.first_name)


async def run_sandbox(
    settings: Settings,
    stop: asyncio.Event,
    options: SandboxOptions = SandboxOptions(),
    *,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Run the sandbox until `stop` is set. `on_ready` gets the page's address once everything listens."""
    keep_db = "database_path" in settings.model_fields_set
    with tempfile.TemporaryDirectory(prefix="newsbot-sandbox-") as tmp:
        db_path = settings.database_path if keep_db else Path(tmp) / "sandbox.db"
        # history at the ticker's pace (each publication gets every len(PUBLICATIONS)-th story)
        pace = timedelta(seconds=options.feed_interval * len(PUBLICATIONS))
        newsroom = Newsroom(now=utcnow(), spacing=pace)
        api = LocalBotAPI(SANDBOX_TOKEN, bot_username="newsbot_sandbox_bot", bot_first_name="Newsbot")
        _register_chats(api)
        controls = SandboxControls(
            api,
            newsroom,
            channel_id=SANDBOX_CHANNEL_ID,
            identities=(READER, ADMIN),
            db_path=db_path,
            groups={"editors": (SANDBOX_EDITORS_ID, ADMIN), "group": (SANDBOX_GROUP_ID, READER)},
        )
        hub = LocalHub()
        app = web.Application()
        add_page_routes(app, controls)
        add_site_routes(app, newsroom, hub_path=HUB_PATH)
        app.add_routes(hub.routes(HUB_PATH))
        bot_url = f"http://127.0.0.1:{_free_port()}"
        try:
            async with api, _web_server(app, options.port) as origin:
                controls.origin = origin
                hub.url = f"{origin}{HUB_PATH}"
                announcer = controls.announcer = Announcer(origin, hub.url, f"{bot_url}/ping")
                newsroom.listeners.append(announcer.announce)
                if on_ready is not None:
                    on_ready(f"{origin}/")
                log.info("sandbox_started", page=f"{origin}/", database=str(db_path), kept=keep_db)
                bot_settings = sandbox_settings(
                    settings,
                    api_url=api.api_url,
                    site=origin,
                    db_path=db_path,
                    poll_interval=options.poll_interval,
                    bot_url=bot_url,
                )
                ticker = asyncio.create_task(
                    run_ticker(newsroom, stop, interval=options.feed_interval), name="sample_feeds"
                )
                await seed_topics(db_path)
                # the reader adds the bot to their group: it welcomes them there once it runs
                api.add_bot_to_group(SANDBOX_GROUP_ID, by=READER.user_id)
                try:
                    await serve(bot_settings, stop)
                finally:
                    stop.set()
                    controls.stopping.set()  # ends the page's event streams before the server closes
                    await ticker
                    await announcer.close()
                    await hub.close()
        finally:
            await controls.close()


def _announce(url: str) -> None:
    print(f"Sandbox running: open {url}", flush=True)
    print("Press Ctrl+C to stop. The bot's own log follows.", flush=True)


async def run_sandbox_command(settings: Settings, args: argparse.Namespace, stop: asyncio.Event) -> None:
    """The CLI entry: console logs unless LOG_FORMAT says otherwise, the page address on stdout first."""
    if args.feed_interval < 1:
        raise ConfigError("--feed-interval must be at least 1 second")
    if settings.log_format is None:
        configure_logging(settings.log_level, "console", stream=sys.stderr)
    options = SandboxOptions(port=args.port, feed_interval=args.feed_interval)
    await run_sandbox(settings, stop, options, on_ready=_announce)
