"""The composition root: opens the database, builds adapters and services, and closes them again.

Concrete classes are chosen here and only here; services see adapters through their Protocols.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import structlog
from telegram import Update

from bot.adapters.backup import backup
from bot.adapters.catalogs import Translators
from bot.adapters.db import Database
from bot.adapters.fetcher import make_client
from bot.adapters.hub_client import HubClient
from bot.adapters.repo_articles import ArticleRepo
from bot.adapters.repo_audit import AuditRepo
from bot.adapters.repo_digests import DigestRepo
from bot.adapters.repo_dm import DMRepo
from bot.adapters.repo_feeds import FeedRepo
from bot.adapters.repo_outbox import OutboxRepo
from bot.adapters.repo_pins import PinRepo
from bot.adapters.repo_review import ReviewRepo
from bot.adapters.repo_tips import TipRepo
from bot.adapters.repo_websub import WebSubRepo
from bot.adapters.telegram_newsroom import NewsroomSender
from bot.adapters.telegram_sender import TelegramSender
from bot.core.i18n import Translator
from bot.core.policy import PostPolicy
from bot.core.timeutil import utcnow
from bot.edges.ingest_process import IngestProcess
from bot.edges.ingest_wiring import build_ingest_service, open_child_ingest, post_policy
from bot.logs import register_secret
from bot.services.audit import Audit
from bot.services.backups import DailyBackups
from bot.services.briefings import BriefingConfig, Briefings
from bot.services.fanout import Fanout
from bot.services.ingest import IngestService
from bot.services.pings import PingService
from bot.services.publisher import Publisher, PublisherConfig
from bot.services.push_ingest import PushIngest
from bot.services.review import ReviewConfig, ReviewService
from bot.services.tips import TipConfig, TipService
from bot.services.websub import WebSubService
from bot.services.websub_ports import WebSubConfig
from bot.settings import Settings

log = structlog.get_logger(__name__)

# A long-running service loop: receives the PTB Bot (or None in shell commands) and a stop event.
BackgroundTask = Callable[[Any, asyncio.Event], Awaitable[None]]


@dataclass
class Runtime:
    """Everything a running bot holds. Built by `open_runtime`, closed by `close`."""

    settings: Settings
    db: Database
    feeds: FeedRepo
    articles: ArticleRepo
    policy: PostPolicy
    audit: Audit  # every admin change: await runtime.audit.record(actor, "action", "detail")
    channel_username: str | None = None
    implemented_commands: set[str] = field(default_factory=lambda: {"start", "help"})
    background: list[tuple[str, BackgroundTask]] = field(default_factory=list)
    publisher: Publisher | None = None  # the channel outbox: pause/resume/stats for admin commands
    fanout: Fanout | None = None  # subscription DMs; `wake()` after queueing some
    ingest: IngestService | None = None  # feeds -> articles: cycles, feeds add/remove, preview
    pings: PingService | None = None  # update pings -> "read this feed now" (served by bot.edges.http_pings)
    websub: WebSubService | None = None  # WebSub subscriptions and pushes (bot.edges.http_websub)
    review: ReviewService | None = None  # the editors' review queue (bot.edges.handlers_review)
    tips: TipService | None = None  # reader tips and blocked readers (bot.edges.handlers_tips)
    ingest_process: IngestProcess | None = None  # the ingest child, when ingest runs in one
    telegram_requests: list[Any] = field(default_factory=list)  # PTB transports (their `last_answer`)
    send_budget: Any = None  # the BudgetLimiter every Bot API call passes (bot/adapters/send_budget.py)
    webhook: Any = None  # the webhook route in TELEGRAM_MODE=webhook (bot/edges/http_webhook.py)
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    # A second, query-only connection for readers' commands: WAL lets it read while `db` writes.
    read_db: Database | None = None
    translators: Translators = field(default_factory=Translators)  # DEFAULT_LANGUAGE set by open_runtime

    def translator(self, update: Update | None) -> Translator:
        """The reader's language (Telegram's language_code), else DEFAULT_LANGUAGE."""
        user = update.effective_user if update is not None else None
        return self.translators.for_code(user.language_code if user is not None else None)

    def channel_link(self) -> str | None:
        """https://t.me/<name> for the configured channel, when it has a public @name."""
        name = self.channel_username
        if name is None and self.settings.channel_id and self.settings.channel_id.startswith("@"):
            name = self.settings.channel_id[1:]
        return f"https://t.me/{name}" if name else None

    async def close(self) -> None:
        for closer in reversed(self.closers):
            try:
                await closer()
            except Exception as exc:  # noqa: BLE001 - closing must go on whatever one part does
                log.warning("close_failed", error=repr(exc))
        await self.db.close()


def build_publisher(runtime: Runtime) -> Publisher:
    """The outbox loop over SQLite, sending through the Bot the loop is given (the Application's)."""
    settings = runtime.settings

    def sender(bot: Any) -> TelegramSender:
        return TelegramSender(
            bot,
            link_preview=settings.link_preview,
            disable_notification=settings.disable_notification,
            timeout=settings.send_timeout_seconds,
        )

    config = PublisherConfig.from_settings(settings, runtime.policy)
    return Publisher(OutboxRepo(runtime.db), sender, config, pins=PinRepo(runtime.db))


def build_review(runtime: Runtime, publisher: Publisher) -> ReviewService:
    """The review queue: previews to REVIEW_CHAT_ID (else each admin), decisions wake the publisher."""
    settings = runtime.settings
    if settings.review and not review_targets(settings):
        log.warning("review_has_no_editors", reason="neither REVIEW_CHAT_ID nor ADMIN_IDS is set")
    config = ReviewConfig(
        targets=review_targets(settings),
        admin_ids=frozenset(settings.admin_ids),
        expiry=timedelta(hours=settings.review_expiry_hours),
        zone=settings.zone,
        render=publisher.config.render,
    )
    return ReviewService(
        ReviewRepo(runtime.db),
        lambda bot: NewsroomSender(bot, timeout=settings.send_timeout_seconds),
        config,
        runtime.audit,
        on_decided=publisher.wake,
        channel_username=lambda chat: runtime.channel_username if chat == settings.channel_id else None,
    )


def review_targets(settings: Settings) -> tuple[str, ...]:
    """Where editors are reached: REVIEW_CHAT_ID, else each admin's private chat."""
    if settings.review_chat_id:
        return (settings.review_chat_id,)
    return tuple(str(a) for a in settings.admin_ids)


def build_briefings(runtime: Runtime) -> Briefings:
    """The channel's digests at DIGEST_TIMES and readers' daily digests, in TIMEZONE; the channel's count
    on the publisher's pacer, the readers' on the fan-out's (built first)."""
    settings = runtime.settings
    config = BriefingConfig(
        channel_id=settings.channel_id,
        times=settings.digest_slots,
        zone=settings.zone,
        size=settings.digest_size,
        grace=timedelta(minutes=settings.digest_grace_minutes),
        quiet_window=settings.quiet_window,
        disable_notification=settings.disable_notification,
        translator=lambda language: runtime.translators.language(language or settings.default_language),
    )
    return Briefings(
        DigestRepo(runtime.db),
        DMRepo(runtime.db),
        lambda bot: NewsroomSender(bot, timeout=settings.send_timeout_seconds),
        config,
        channel_pacer=runtime.publisher.pacer if runtime.publisher else None,
        dm_pacer=runtime.fanout.pacer if runtime.fanout else None,
        paused=OutboxRepo(runtime.db).is_paused,
    )


async def build_tips(runtime: Runtime) -> TipService:
    settings = runtime.settings
    tips = TipService(
        TipRepo(runtime.db),
        lambda bot: NewsroomSender(bot, timeout=settings.send_timeout_seconds),
        TipConfig(review_targets(settings), frozenset(settings.admin_ids), settings.tips_per_hour),
        runtime.audit,
    )
    await tips.load()
    return tips


def build_fanout(runtime: Runtime) -> Fanout:
    """The subscription DM loop over dm_outbox, paced under Telegram's global limit."""
    settings = runtime.settings

    def sender(bot: Any) -> TelegramSender:
        return TelegramSender(bot, link_preview=settings.link_preview, timeout=settings.send_timeout_seconds)

    return Fanout(
        DMRepo(runtime.db),
        sender,
        per_second=settings.dm_per_second,
        max_age=timedelta(hours=settings.dm_max_age_hours),
    )


def build_ingest(runtime: Runtime, *, cycles: bool = True) -> IngestService:
    """The ingest service over this runtime's storage (bot.edges.ingest_wiring); its fetcher and parse
    pool close with the runtime. Without `cycles` it serves admin commands and pushes only."""
    ingest = build_ingest_service(
        runtime.settings,
        runtime.db,
        runtime.closers,
        feeds=runtime.feeds,
        articles=runtime.articles,
        policy=runtime.policy,
        cycles=cycles,
    )
    for service in (runtime.publisher, runtime.fanout, runtime.review):
        if service is not None:
            ingest.on_queued.append(service.wake)
    return ingest


def build_websub(runtime: Runtime, ingest: IngestService) -> WebSubService | None:
    """The WebSub subscriber (pushes ingested through this process's `ingest`), when the bot's HTTP server
    is on and PUBLIC_URL says where hubs reach it; without them no subscription counts as pushed."""
    settings = runtime.settings
    store = WebSubRepo(runtime.db)
    if not (settings.public_url and settings.http_listen):

        async def websub_off(bot: Any, stop: asyncio.Event) -> None:
            if await store.suspend("WebSub is off: it needs PUBLIC_URL and HTTP_LISTEN", utcnow()):
                log.info("websub_off", reason="PUBLIC_URL or HTTP_LISTEN not set; feeds are polled")

        runtime.background.append(("websub", websub_off))
        return None
    client = make_client(timeout=settings.fetch_timeout_seconds, per_host=2)
    runtime.closers.append(client.aclose)
    hubs = HubClient(
        client, timeout=settings.fetch_timeout_seconds, allow_private=settings.allow_private_feeds
    )
    websub = WebSubService(store, hubs, PushIngest(ingest), WebSubConfig(public_url=settings.public_url))
    ingest.on_feeds_changed.append(websub.wake)
    runtime.background.append(("websub", websub.loop))
    return websub


async def _open_storage(settings: Settings, *, migrate: bool) -> Runtime:
    """A Runtime holding only the writer connection and the repositories every service shares."""
    db = await Database(settings.database_path).open(migrate=migrate)
    return Runtime(
        settings=settings,
        db=db,
        feeds=FeedRepo(db),
        articles=ArticleRepo(db),
        policy=post_policy(settings),
        audit=Audit(AuditRepo(db)),
        translators=Translators(settings.default_language),
    )


async def open_runtime(settings: Settings) -> Runtime:
    """Open storage and build every service. Services register their loops in `runtime.background`."""
    register_secret(settings.token)
    runtime = await _open_storage(settings, migrate=True)
    try:
        if str(settings.database_path) != ":memory:":
            runtime.read_db = await Database(settings.database_path).open(migrate=False, read_only=True)
            runtime.closers.append(runtime.read_db.close)
        # Each service adds itself below (ingest, publisher, fan-out), in dependency order.
        runtime.publisher = build_publisher(runtime)
        runtime.background.append(("publisher", runtime.publisher.loop))
        runtime.review = build_review(runtime, runtime.publisher)
        runtime.tips = await build_tips(runtime)
        if settings.backup_dir is not None and str(settings.database_path) != ":memory:":
            daily = DailyBackups(settings.database_path, settings.backup_dir, settings.backup_keep, backup)
            runtime.background.append(("backups", daily.loop))
        runtime.background.append(("review", runtime.review.loop))
        runtime.fanout = build_fanout(runtime)
        runtime.background.append(("fanout", runtime.fanout.loop))
        runtime.background.append(("digests", build_briefings(runtime).loop))
        runtime.ingest = build_ingest(runtime, cycles=runtime.read_db is None)
        runtime.pings = PingService(runtime.feeds, runtime.ingest.fetch_soon)
        runtime.websub = build_websub(runtime, runtime.ingest)
        if runtime.read_db is None:  # a database in memory cannot be shared with another process
            runtime.background.append(("ingest", runtime.ingest.loop))
        else:  # cycles run in a niced child process; this IngestService serves admin commands
            child = IngestProcess(settings, open_child_ingest, on_queued=list(runtime.ingest.on_queued))
            runtime.ingest_process = child
            runtime.ingest.on_wake.append(child.wake)
            runtime.ingest.on_fetch.append(child.fetch)
            if runtime.websub is not None:
                child.on_feeds_changed.append(runtime.websub.wake)
            runtime.background.append(("ingest", child.loop))
    except BaseException:
        await runtime.close()
        raise
    return runtime
