"""Logging configuration (structlog, once per process) with a processor that scrubs the bot token."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog

# Anything that looks like a bot token: digits, a colon, 30+ url-safe characters.
_TOKEN_RE = re.compile(r"\d{5,}:[A-Za-z0-9_-]{20,}")
_secrets: set[str] = set()


def register_secret(secret: str | None) -> None:
    """Remember a secret (the bot token) so it is replaced in every log line."""
    if secret:
        _secrets.add(secret)


def scrub(text: str) -> str:
    """Replace registered secrets and token-shaped strings with a placeholder."""
    for secret in _secrets:
        text = text.replace(secret, "<redacted>")
    return _TOKEN_RE.sub("<redacted>", text)


def _scrub_event(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key, value in list(event_dict.items()):
        if isinstance(value, str):
            event_dict[key] = scrub(value)
        elif isinstance(value, BaseException):
            event_dict[key] = scrub(repr(value))
    return event_dict


class _ScrubFilter(logging.Filter):
    """Scrubs stdlib records (httpx, telegram, aiohttp) before any handler formats them."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, dict):  # structlog's own event dict: scrubbed by _scrub_event
            return True
        message = scrub(record.getMessage())
        record.msg, record.args = message, None
        if record.exc_info:
            # render now so the traceback text can be scrubbed too
            formatted = logging.Formatter().formatException(record.exc_info)
            record.msg = f"{message}\n{scrub(formatted)}"
            record.exc_info = None
            record.exc_text = None
        return True


def configure_logging(level: str = "INFO", fmt: str | None = None, stream: TextIO | None = None) -> None:
    """Configure structlog and the stdlib root logger. `fmt` None picks console on a TTY, JSON otherwise."""
    stream = stream or sys.stderr
    if fmt is None:
        fmt = "console" if stream.isatty() else "json"
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        _scrub_event,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=stream.isatty())
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(stream)
    handler.addFilter(_ScrubFilter())
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx/httpcore log every request URL, which contains the token: keep them quiet.
    for noisy in ("httpx", "httpcore", "telegram.ext.Updater", "aiohttp.access", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
