"""`newsbot run` end to end: the real Application against the local Bot API over loopback HTTP."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from bot.edges.app import serve
from bot.sandbox.botapi import LocalBotAPI
from bot.settings import load_settings

TOKEN = "123456:TEST-token-for-run-tests-aaaaaaaaaaa"
CHANNEL = -1001234567890


async def test_serve_answers_start_and_help(tmp_path: Path) -> None:
    async with LocalBotAPI(TOKEN) as api:
        api.add_chat(CHANNEL, username="mynews", title="My News")
        settings = load_settings(
            None,
            BOT_TOKEN=TOKEN,
            TELEGRAM_API_URL=api.api_url,
            CHANNEL_ID=str(CHANNEL),
            ADMIN_IDS="42",
            DATABASE_PATH=str(tmp_path / "bot.db"),
        )
        stop = asyncio.Event()
        task = asyncio.create_task(serve(settings, stop))
        try:
            await api.wait_until(lambda: bool(api.calls("getUpdates")), timeout=10)
            api.inject_message("/start", user_id=7, username="reader")
            reply = await api.wait_for_reply(7, timeout=10)
            assert "Follow us on Telegram for the latest updates" in reply.text
            assert "t.me/mynews" in reply.text  # learnt from getChat for a numeric CHANNEL_ID

            api.inject_message("/help", user_id=7)
            help_reply = await api.wait_for_reply(7, timeout=10)
            assert "/latest" in help_reply.text
            assert "/start" in help_reply.text
            # readers' menu for everyone; the admin's chat gets more commands
            reader_menu = {c["command"] for c in api.commands()}
            admin_menu = {c["command"] for c in api.commands({"type": "chat", "chat_id": 42})}
            assert {"start", "help"} <= reader_menu
            assert reader_menu < admin_menu or reader_menu == admin_menu
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=10)
        assert (tmp_path / "bot.db").exists()


def test_newsbot_run_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    """A real `python -m bot run` process polls the stand-in, answers, and exits 0 on SIGTERM quickly."""

    async def scenario() -> None:
        async with LocalBotAPI(TOKEN) as api:
            api.add_chat(CHANNEL, username="mynews", title="My News")
            env = {
                **os.environ,
                "BOT_TOKEN": TOKEN,
                "TELEGRAM_API_URL": api.api_url,
                "CHANNEL_ID": "@mynews",
                "DATABASE_PATH": str(tmp_path / "bot.db"),
                "LOG_FORMAT": "json",
            }
            log_path = tmp_path / "run.log"
            with log_path.open("w") as log:
                proc = subprocess.Popen(
                    [sys.executable, "-m", "bot", "run"], env=env, cwd=tmp_path, stdout=log, stderr=log
                )
                try:
                    await api.wait_until(lambda: bool(api.calls("getUpdates")), timeout=20)
                    api.inject_message("/start", user_id=9)
                    reply = await api.wait_for_reply(9, timeout=10)
                    assert "t.me/mynews" in reply.text
                    started = time.monotonic()
                    proc.send_signal(signal.SIGTERM)
                    while proc.poll() is None and time.monotonic() - started < 10:
                        await asyncio.sleep(0.05)
                    elapsed = time.monotonic() - started
                finally:
                    if proc.poll() is None:
                        proc.kill()
                        proc.wait()
            output = log_path.read_text()
            assert proc.returncode == 0, output
            assert elapsed < 5, f"took {elapsed:.1f}s to stop"
            assert "bot_stopped" in output
            assert TOKEN not in output
            assert TOKEN.split(":")[1] not in output

    asyncio.run(scenario())


def test_rejected_token_is_one_clear_line(tmp_path: Path) -> None:
    async def scenario() -> subprocess.CompletedProcess[str]:
        async with LocalBotAPI(TOKEN) as api:
            env = {
                **os.environ,
                "BOT_TOKEN": "999:WRONG-token-aaaaaaaaaaaaaaaaaaaaaaaa",
                "TELEGRAM_API_URL": api.api_url,
                "DATABASE_PATH": str(tmp_path / "bot.db"),
                "LOG_FORMAT": "json",
            }
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "run",
                env=env,
                cwd=tmp_path,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            out, err = await asyncio.wait_for(proc.communicate(), timeout=30)
            return subprocess.CompletedProcess([], proc.returncode or 0, out.decode(), err.decode())

    result = asyncio.run(scenario())
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("newsbot: error:")]
    assert len(errors) == 1
    assert "rejected BOT_TOKEN" in errors[0]
    assert "Traceback" not in result.stderr
    assert "WRONG-token" not in result.stderr


async def test_bot_started_during_an_outage_comes_up_when_telegram_does(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = load_settings(
        None,
        BOT_TOKEN=TOKEN,
        TELEGRAM_API_URL=f"http://127.0.0.1:{port}",
        DATABASE_PATH=str(tmp_path / "bot.db"),
    )
    stop = asyncio.Event()
    task = asyncio.create_task(serve(settings, stop))
    try:
        await asyncio.sleep(1.5)  # nothing listens yet: the bot retries getMe
        assert not task.done()
        async with LocalBotAPI(TOKEN, port=port) as api:
            await api.wait_until(lambda: bool(api.calls("getUpdates")), timeout=15)
            api.inject_message("/start", user_id=5)
            reply = await api.wait_for_reply(5, timeout=10)
            assert "Follow" in reply.text
            stop.set()
            await asyncio.wait_for(task, timeout=10)
    finally:
        stop.set()
        if not task.done():
            task.cancel()
