"""python-telegram-bot wiring in one place: the Application, its handlers, command menus, and `serve()`."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Set

import structlog
from telegram import (
    Bot,
    BotCommand,
    BotCommandScope,
    BotCommandScopeAllGroupChats,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    Update,
)
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import Application, ApplicationBuilder, CallbackQueryHandler, CommandHandler

from bot.adapters.repo_state import stored_secret
from bot.adapters.send_budget import BudgetLimiter, lane_scope
from bot.adapters.telegram_request import AiohttpRequest
from bot.core.budget import Lane
from bot.core.commands import ADMIN_COMMANDS, GROUP_COMMANDS, READER_COMMANDS, Command
from bot.core.errors import ConfigError
from bot.core.i18n import MENU_CODES, Translator
from bot.edges.handlers import Handlers
from bot.edges.handlers_admin import register_admin_handlers
from bot.edges.handlers_deeplinks import register_deeplink_handlers
from bot.edges.handlers_inline import register_inline_handlers
from bot.edges.handlers_newsroom import register_newsroom_handlers
from bot.edges.handlers_opml import register_opml_handlers
from bot.edges.handlers_reader import register_reader_handlers
from bot.edges.handlers_review import register_review_handlers
from bot.edges.handlers_tips import register_tip_handlers
from bot.edges.http_health import build_health, health_routes
from bot.edges.http_metrics import build_metrics, metrics_routes
from bot.edges.http_pings import ping_routes
from bot.edges.http_server import HttpServer
from bot.edges.http_webhook import WEBHOOK_PATH, WebhookReceiver
from bot.edges.http_websub import websub_routes
from bot.edges.runtime import BackgroundTask, Runtime, open_runtime
from bot.logs import register_secret
from bot.settings import Settings

log = structlog.get_logger(__name__)


def build_application(runtime: Runtime) -> Application:  # type: ignore[type-arg]
    """Build the PTB Application against TELEGRAM_API_URL and register every handler."""
    settings = runtime.settings
    token = settings.token
    if not token:
        raise ConfigError("BOT_TOKEN is not set; get one from @BotFather, or run `make run` for the sandbox")
    requests = [
        AiohttpRequest(pool_size=64, connect_timeout=10, read_timeout=15, write_timeout=15),
        AiohttpRequest(pool_size=1, connect_timeout=10, read_timeout=35, write_timeout=15),
    ]
    runtime.telegram_requests = list(requests)
    runtime.send_budget = BudgetLimiter()  # one budget for every send of this token (send_budget.py)
    app = (
        ApplicationBuilder()
        .token(token)
        .base_url(f"{settings.telegram_api_url}/bot")
        .base_file_url(f"{settings.telegram_api_url}/file/bot")
        .rate_limiter(runtime.send_budget)
        # aiohttp, not PTB's default httpx: ~2 ms less per reply (bot/adapters/telegram_request.py)
        .request(requests[0])
        .get_updates_request(requests[1])
        .build()
    )
    handlers = Handlers(runtime)
    app.add_handler(CommandHandler("start", handlers.start))
    register_deeplink_handlers(app, handlers.links)
    app.add_handler(CommandHandler("help", handlers.help))
    register_reader_handlers(app, runtime)
    register_admin_handlers(app, runtime)
    register_review_handlers(app, runtime)
    register_newsroom_handlers(app, runtime)
    register_tip_handlers(app, runtime)
    register_opml_handlers(app, runtime)
    register_inline_handlers(app, runtime)
    app.add_handler(CallbackQueryHandler(_stale_button, block=False))  # any button no handler claimed
    app.add_error_handler(_on_error)
    return app


async def _stale_button(update: Update, context: object) -> None:
    """A press on a button this bot no longer knows (an old message, forged data): answer, change nothing."""
    query = update.callback_query
    if query is not None:
        with contextlib.suppress(TelegramError):
            await query.answer("This button is no longer valid.")


async def _on_error(update: object, context: object) -> None:
    error = getattr(context, "error", None)
    log.error("handler_failed", error=repr(error), update_type=type(update).__name__)


def _menu(commands: tuple[Command, ...], implemented: Set[str], t: Translator) -> list[BotCommand]:
    return [BotCommand(c.name, t(c.description)) for c in commands if c.name in implemented]


async def _set_menu(
    app: Application,  # type: ignore[type-arg]
    commands: list[BotCommand],
    scope: BotCommandScope,
    code: str | None,
) -> bool:
    """One menu; False (logged) when Telegram refuses it: a menu is a convenience, never a reason to stop."""
    try:
        await app.bot.set_my_commands(commands, scope=scope, language_code=code)
    except TelegramError as exc:
        log.warning("menu_failed", scope=scope.type, language=code, error=str(exc))
        return False
    return True


async def register_menus(app: Application, runtime: Runtime) -> None:  # type: ignore[type-arg]
    """Readers see reader commands (in groups, the group ones), described in their language: one menu per
    shipped language (setMyCommands' two-letter `language_code`) and DEFAULT_LANGUAGE's for everyone else.
    Each admin's private chat also gets the admin commands (in DEFAULT_LANGUAGE)."""
    implemented = runtime.implemented_commands
    default = runtime.translators.language(runtime.settings.default_language)
    languages: list[tuple[str | None, Translator]] = [(None, default)]
    languages += [
        (MENU_CODES[lang], runtime.translators.language(lang)) for lang in runtime.translators.languages
    ]
    for code, t in languages:
        await _set_menu(app, _menu(READER_COMMANDS, implemented, t), BotCommandScopeDefault(), code)
        await _set_menu(app, _menu(GROUP_COMMANDS, implemented, t), BotCommandScopeAllGroupChats(), code)
    admin_menu = _menu(READER_COMMANDS + ADMIN_COMMANDS, implemented, default)
    for admin_id in runtime.settings.admin_ids:  # an admin who never opened a chat with the bot: logged
        await _set_menu(app, admin_menu, BotCommandScopeChat(admin_id), None)


async def _learn_channel(app: Application, runtime: Runtime) -> None:  # type: ignore[type-arg]
    channel = runtime.settings.channel_id
    if not channel:
        return
    try:
        chat = await app.bot.get_chat(channel)
    except TelegramError as exc:
        log.warning("channel_lookup_failed", channel=channel, error=str(exc))
        return
    runtime.channel_username = chat.username


async def _connect(app: Application, settings: Settings, stop: asyncio.Event) -> bool:  # type: ignore[type-arg]
    """Initialise the Application (getMe) until Telegram answers; False if stopped first.

    A token Telegram rejects is a ConfigError (one line, no retry); an unreachable API is retried with
    capped backoff, so a bot started during a network outage comes up when the network does.
    """
    delay = 1.0
    while not stop.is_set():
        try:
            await app.initialize()
        except InvalidToken:
            # (PTB's own message quotes the token: never pass it on)
            raise ConfigError(
                f"Telegram at {settings.telegram_api_url} rejected BOT_TOKEN as invalid; "
                "check the token from @BotFather"
            ) from None
        except NetworkError as exc:
            log.warning("telegram_unreachable", api=settings.telegram_api_url, error=str(exc), retry_in=delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=delay)
            delay = min(delay * 2, 60.0)
        else:
            return True
    return False


# The send budget's lane of each background service's Bot API calls; handlers' replies are Lane.REPLY.
SERVICE_LANES = {"fanout": Lane.BULK, "digests": Lane.BULK}


async def _supervise(name: str, task: BackgroundTask, bot: Bot, stop: asyncio.Event) -> None:
    """Run a service loop; if it crashes, log it and start it again after a pause. It never stops the bot."""
    with lane_scope(SERVICE_LANES.get(name, Lane.POST)):
        await _run_supervised(name, task, bot, stop)


async def _run_supervised(name: str, task: BackgroundTask, bot: Bot, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            await task(bot, stop)
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a service crash must not stop the bot
            log.exception("service_crashed", service=name, error=repr(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=5)


async def _finish(tasks: list[asyncio.Task[None]], grace: float = 5.0) -> None:
    """Give service loops a moment to notice `stop`, then cancel the stragglers."""
    if not tasks:
        return
    _, pending = await asyncio.wait(tasks, timeout=grace)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)


def build_http_server(runtime: Runtime) -> HttpServer | None:
    """The bot's HTTP server with every capability's routes, when HTTP_LISTEN is set."""
    settings = runtime.settings
    if not settings.http_listen:
        return None
    # pushed feed bodies may be as large as fetched ones; each route caps its own body below that
    server = HttpServer(settings.http_listen, max_body=settings.max_feed_bytes + 64 * 1024)
    if runtime.pings is not None:
        server.add_routes(ping_routes(runtime.pings))
    if runtime.websub is not None:
        server.add_routes(websub_routes(runtime.websub, max_bytes=settings.max_feed_bytes))
    server.add_routes(health_routes(build_health(runtime)))
    server.add_routes(metrics_routes(build_metrics(runtime)))
    return server


# The update types the handlers take (both modes ask Telegram for these and no others).
ALLOWED_UPDATES = ["message", "callback_query", "inline_query", "chosen_inline_result", "my_chat_member"]
WEBHOOK_SECRET_KEY = "webhook_secret"  # noqa: S105 - the bot_state key, not a secret


def check_mode(settings: Settings) -> None:
    """Webhook mode needs the server Telegram calls and the address it calls it at: one line if not."""
    if settings.telegram_mode == "webhook" and not (settings.public_url and settings.http_listen):
        missing = " and ".join(
            name
            for name, value in (("PUBLIC_URL", settings.public_url), ("HTTP_LISTEN", settings.http_listen))
            if not value
        )
        raise ConfigError(
            f"invalid setting TELEGRAM_MODE: webhook needs {missing} (Telegram calls PUBLIC_URL)"
        )


async def _start_updates(
    app: Application,  # type: ignore[type-arg]
    settings: Settings,
    webhook: WebhookReceiver | None,
    secret: str | None,
) -> None:
    """Polling: PTB's updater (which deletes any webhook first). Webhook: setWebhook, then take what the
    HTTP server's route queues."""
    if webhook is None or secret is None:
        assert app.updater is not None
        await app.updater.start_polling(
            poll_interval=0.0, timeout=10, drop_pending_updates=False, allowed_updates=ALLOWED_UPDATES
        )
        await app.start()
        return
    url = f"{settings.public_url}{WEBHOOK_PATH}"
    try:
        await app.bot.set_webhook(
            url, secret_token=secret, allowed_updates=ALLOWED_UPDATES, max_connections=40
        )
    except TelegramError as exc:
        raise ConfigError(f"Telegram refused the webhook at {url}: {exc.message}") from None
    await app.start()
    webhook.attach(app)
    log.info("webhook_set", url=url)


async def serve(settings: Settings, stop: asyncio.Event) -> None:
    """Run the bot until `stop` is set: updates by polling or webhook, background services, then a clean
    shutdown."""
    check_mode(settings)
    runtime = await open_runtime(settings)
    http = build_http_server(runtime)
    try:
        webhook: WebhookReceiver | None = None
        secret: str | None = None
        if settings.telegram_mode == "webhook" and http is not None:
            secret = settings.webhook_secret or await stored_secret(runtime.db, WEBHOOK_SECRET_KEY)
            register_secret(secret)  # never in a log line, like the token
            webhook = WebhookReceiver(secret)
            http.add_routes(webhook.routes())
            runtime.webhook = webhook
        if http is not None:
            await http.start()  # a busy port stops start-up here, before Telegram is called
        app = build_application(runtime)
        if not await _connect(app, settings, stop):
            return
        try:
            me = app.bot
            log.info(
                "bot_started",
                username=me.username,
                api=settings.telegram_api_url,
                mode=settings.telegram_mode,
            )
            await register_menus(app, runtime)
            await _learn_channel(app, runtime)
            await _start_updates(app, settings, webhook, secret)
            tasks = [
                asyncio.create_task(_supervise(name, task, app.bot, stop), name=name)
                for name, task in runtime.background
            ]
            await stop.wait()
            log.info("bot_stopping")
            await _finish(tasks)
        finally:
            if app.updater is not None and app.updater.running:
                await app.updater.stop()
            if app.running:
                await app.stop()
            with contextlib.suppress(TelegramError):
                await app.shutdown()
    finally:
        if http is not None:
            await http.stop()
        await runtime.close()
        log.info("bot_stopped")
