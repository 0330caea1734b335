"""What every chat command runs inside: the per-user rate limit, the admin check, and safe replies.

A command may raise `ArgumentError` (its plain text is the answer), `Answer` (ready HTML) or anything else
(the reader gets a short apology, the error is logged): no exception reaches the user or stops the bot.
The limit itself is pure logic in `bot/core/ratelimit.py`; the commands are in handlers_reader.py and
handlers_admin.py.
"""

from __future__ import annotations

import asyncio
import functools
import html
import time
from collections.abc import Callable, Coroutine
from typing import Any

import structlog
from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import RetryAfter, TelegramError
from telegram.ext import Application, ApplicationHandlerStop, ContextTypes, TypeHandler

from bot.adapters.telegram_sender import translate
from bot.core.chat_args import ArgumentError
from bot.core.delivery import FloodWait
from bot.core.i18n import ENGLISH, N_, Translator
from bot.core.ratelimit import CommandLimiter, Verdict
from bot.core.replies_admin import refusal
from bot.core.replies_topics import slow_down
from bot.edges.http_metrics import COMMAND_SECONDS
from bot.services.audit import Actor
from bot.settings import Settings

log = structlog.get_logger(__name__)
Ctx = ContextTypes.DEFAULT_TYPE
Callback = Callable[[Update, Ctx], Coroutine[Any, Any, None]]
MAX_REPLY_WAIT = 10.0  # seconds; a longer flood wait drops the reply rather than hold a handler
SORRY = N_("Sorry, something went wrong on my side. Please try again in a moment.")
Translate = Callable[[Update], Translator]  # the reader's language for an update (Runtime.translator)


def _english(update: Update) -> Translator:
    return ENGLISH


async def reply_html(update: Update, text: str, *, flood_retries: int = 2) -> None:
    """Answer in the chat the command came from, as Telegram HTML without link previews.

    A 429 (a chat gets about one message a second) is waited out and retried, at most `flood_retries`
    times and only for short waits; handlers run with block=False, so the wait holds up no one else.
    """
    message = update.effective_message
    if message is None:
        return
    for attempt in range(flood_retries + 1):
        try:
            await message.reply_text(
                text,
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
                do_quote=False,
            )
            return
        except RetryAfter as exc:
            flood = translate(exc, str(message.chat_id))
            wait = flood.retry_after if isinstance(flood, FloodWait) else MAX_REPLY_WAIT + 1
            if attempt >= flood_retries or wait > MAX_REPLY_WAIT:
                raise
            log.info("reply_flood_wait", chat_id=message.chat_id, retry_after=wait)
            await asyncio.sleep(wait)


def user_id(update: Update) -> int | None:
    return update.effective_user.id if update.effective_user is not None else None


def actor_of(update: Update) -> Actor:
    """Who sent the update, for the audit log."""
    user = update.effective_user
    if user is None:
        return Actor(None, "unknown")
    return Actor.user(user.id, user.first_name, user.username)


def is_admin(settings: Settings, update: Update) -> bool:
    uid = user_id(update)
    return uid is not None and uid in settings.admin_ids


class Answer(Exception):  # noqa: N818 - not an error: a finished answer that ends the command early
    """Stop the command and send this Telegram HTML (e.g. an unknown topic with the closest names)."""

    def __init__(self, html_text: str) -> None:
        super().__init__(html_text)
        self.html = html_text


def guarded(command: str, translate: Translate = _english) -> Callable[[Callback], Callback]:
    """Turn ArgumentError into its answer and any other failure into an apology (in the reader's
    language), logged with the command."""

    def wrap(callback: Callback) -> Callback:
        @functools.wraps(callback)
        async def run(update: Update, context: Ctx) -> None:
            started = time.perf_counter()
            try:
                await callback(update, context)
            except Answer as exc:
                await _try_reply(update, exc.html)
            except ArgumentError as exc:
                log.info("command_argument_refused", command=command, user_id=user_id(update), error=str(exc))
                answer = translate(update).render(exc.message)
                await _try_reply(update, html.escape(answer, quote=False))
            except Exception as exc:  # nothing a command does may reach the user as an exception
                log.exception("command_failed", command=command, user_id=user_id(update), error=repr(exc))
                await _try_reply(update, html.escape(translate(update)(SORRY), quote=False))
            finally:
                COMMAND_SECONDS.labels(command).observe(time.perf_counter() - started)

        return run

    return wrap


async def _try_reply(update: Update, text: str, *, flood_retries: int = 2) -> None:
    try:
        await reply_html(update, text, flood_retries=flood_retries)
    except TelegramError as exc:
        log.warning("reply_failed", error=exc.message)


def admin_only(
    settings: Settings, command: str, translate: Translate = _english
) -> Callable[[Callback], Callback]:
    """Refuse politely, change nothing, and log the attempt when the sender is not in ADMIN_IDS."""

    def wrap(callback: Callback) -> Callback:
        @functools.wraps(callback)
        async def run(update: Update, context: Ctx) -> None:
            if not is_admin(settings, update):
                log.warning("admin_command_refused", command=command, user_id=user_id(update))
                await reply_html(update, refusal(command, translate(update)))
                return
            await callback(update, context)

        return run

    return wrap


class RateGate:
    """Runs before every handler (group -1): over-limit commands get one "slow down", then nothing."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Callable[[], float] = time.monotonic,
        translate: Translate = _english,
    ) -> None:
        self.settings = settings
        self._translate = translate
        self.limiter = CommandLimiter(settings.command_burst, settings.command_period_seconds)
        self._clock = clock

    async def __call__(self, update: Update, context: Ctx) -> None:
        message = update.effective_message
        uid = user_id(update)
        if message is None or uid is None or not (message.text or "").startswith("/"):
            return
        if uid in self.settings.admin_ids:
            return
        now = self._clock()
        verdict = self.limiter.check(uid, now)
        if verdict is Verdict.ALLOW:
            return
        if verdict is Verdict.WARN:
            log.info("command_rate_limited", user_id=uid)
            answer = slow_down(self.limiter.retry_in(uid, now), self._translate(update))
            await _try_reply(update, answer, flood_retries=0)
        raise ApplicationHandlerStop

    def register(self, app: Application[Any, Any, Any, Any, Any, Any]) -> None:
        app.add_handler(TypeHandler(Update, self), group=-1)
