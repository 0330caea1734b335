"""The bot token never reaches a log line, whoever logs it: structlog, httpx, or a traceback."""

from __future__ import annotations

import io
import json
import logging

import structlog

from bot.logs import configure_logging, register_secret

TOKEN = "987654321:AAH-secret_token_value_ABCDEFGHIJKLMNOP"


def _configure(fmt: str) -> io.StringIO:
    buf = io.StringIO()
    register_secret(TOKEN)
    configure_logging("DEBUG", fmt, stream=buf)
    return buf


def test_structlog_event_values_are_scrubbed() -> None:
    buf = _configure("json")
    structlog.get_logger("t").info("request_sent", url=f"https://api.telegram.org/bot{TOKEN}/getMe")
    line = json.loads(buf.getvalue().strip())
    assert line["event"] == "request_sent"
    assert TOKEN not in buf.getvalue()
    assert "<redacted>" in line["url"]


def test_stdlib_and_httpx_records_are_scrubbed() -> None:
    buf = _configure("console")
    logging.getLogger("telegram.ext").warning("POST https://api.telegram.org/bot%s/sendMessage failed", TOKEN)
    logging.getLogger("httpx").setLevel(logging.INFO)
    logging.getLogger("httpx").info('HTTP Request: POST https://x/bot%s/getUpdates "200 OK"', TOKEN)
    assert buf.getvalue().count("<redacted>") == 2
    assert TOKEN not in buf.getvalue()


def test_httpx_request_logging_is_silenced() -> None:
    _configure("json")
    assert logging.getLogger("httpx").getEffectiveLevel() >= logging.WARNING


def test_tracebacks_are_scrubbed() -> None:
    buf = _configure("json")
    try:
        raise RuntimeError(f"call to /bot{TOKEN}/sendMessage failed")
    except RuntimeError:
        structlog.get_logger("t").exception("send_failed")
        logging.getLogger("telegram").exception("stdlib view")
    assert "send_failed" in buf.getvalue()
    assert TOKEN not in buf.getvalue()


def test_unregistered_token_shapes_are_scrubbed_too() -> None:
    buf = _configure("json")
    other = "1234567:ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ"
    structlog.get_logger("t").info("oops", detail=f"token={other}")
    assert other not in buf.getvalue()
