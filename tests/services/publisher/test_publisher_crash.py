"""`newsbot run` killed with SIGKILL in the middle of a burst, then restarted: nothing lost, nothing doubled
beyond the documented in-flight rule (INFLIGHT_POLICY). The bot is a real subprocess; the local Bot API runs
in the test process, slowed down so that a post is always in flight when the kill comes.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from bot.adapters.db import Database
from bot.sandbox.botapi import LocalBotAPI
from tests.kits.outboxkit import CHANNEL, TOKEN, article, posts_of, states, store, wait_states

SLOW_ANSWER = 0.3  # every sendMessage is answered this late, so the burst takes a while


async def start_bot(api: LocalBotAPI, tmp_path: Path, run: int, **env: str) -> asyncio.subprocess.Process:
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": api.api_url,
        "CHANNEL_ID": str(CHANNEL),
        "DATABASE_PATH": str(tmp_path / "newsbot.db"),
        "LOG_FORMAT": "json",
        **env,
    }
    log = (tmp_path / f"run{run}.log").open("wb")
    try:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", cwd=tmp_path, env=environment, stdout=log, stderr=log
        )
    finally:
        log.close()  # the child has its own copy


def events(tmp_path: Path, run: int) -> list[dict[str, object]]:
    lines = (tmp_path / f"run{run}.log").read_text("utf-8").splitlines()
    return [json.loads(line) for line in lines if line.startswith("{")]


async def kill_mid_burst(api: LocalBotAPI, proc: asyncio.subprocess.Process, after: int) -> None:
    """SIGKILL the bot while the stand-in holds one of its posts, after `after` posts went out."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    # polled: a request arriving (and held) does not wake the stand-in's waiters, only its answer does
    while not (api.count_sent >= after and len(api.calls("sendMessage")) > api.count_sent):
        assert loop.time() < deadline, "the bot never had a post in flight"
        await asyncio.sleep(0.005)
    proc.kill()
    assert await proc.wait() == -9
    # the held request is still answered by "Telegram": the post is in the channel, the bot never knew
    await api.wait_until(lambda: len(api.calls("sendMessage")) == api.count_sent, timeout=5)


async def stop_bot(proc: asyncio.subprocess.Process) -> None:
    proc.terminate()
    assert await asyncio.wait_for(proc.wait(), 15) == 0


async def crash_and_restart(tmp_path: Path, stories: int, **env: str) -> tuple[LocalBotAPI, dict[str, int]]:
    async with LocalBotAPI(TOKEN) as api:
        api.add_chat(CHANNEL, title="News")
        async with Database(tmp_path / "newsbot.db") as db:
            await store(db, [article(i) for i in range(1, stories + 1)])
        api.hang_next("sendMessage", SLOW_ANSWER, count=1000)
        first = await start_bot(api, tmp_path, 1, **env)
        try:
            await kill_mid_burst(api, first, after=3)
        finally:
            if first.returncode is None:
                first.kill()
                await first.wait()
        async with Database(tmp_path / "newsbot.db") as db:
            at_kill = await states(db)
        assert at_kill["sending"] == 1  # exactly the one the stand-in was holding
        assert at_kill.get("sent", 0) >= 3
        api.clear_faults()
        second = await start_bot(api, tmp_path, 2, **env)
        try:
            async with Database(tmp_path / "newsbot.db") as db:
                resend = env.get("INFLIGHT_POLICY") == "resend"
                want = {"sent": stories} if resend else {"sent": stories - 1, "unknown": 1}
                await wait_states(db, want, timeout=30)
        finally:
            await stop_bot(second)
        return api, at_kill


async def test_sigkill_mid_burst_then_restart_loses_and_doubles_nothing(tmp_path: Path) -> None:
    api, _ = await crash_and_restart(tmp_path, stories=8)
    counts = {i: len(posts_of(api, i)) for i in range(1, 9)}
    assert counts == dict.fromkeys(range(1, 9), 1)
    # the post in flight at the kill is logged and not re-sent (INFLIGHT_POLICY=skip, the default)
    unknown = [e for e in events(tmp_path, 2) if e["event"] == "outbox_in_flight_unknown"]
    assert len(unknown) == 1
    url = str(unknown[0]["url"])
    assert len([m for m in api.channel_posts(CHANNEL) if m.entities[-1]["url"] == url]) == 1
    # every other post went out after the restart in order, each once
    order = [int(m.entities[-1]["url"].rsplit("/", 1)[1]) for m in api.channel_posts(CHANNEL)]
    assert order == list(range(1, 9))


async def test_sigkill_with_resend_policy_is_at_least_once(tmp_path: Path) -> None:
    api, _ = await crash_and_restart(tmp_path, stories=6, INFLIGHT_POLICY="resend")
    counts = {i: len(posts_of(api, i)) for i in range(1, 7)}
    doubled = [i for i, n in counts.items() if n == 2]
    assert len(doubled) == 1  # the one in flight: delivered before the kill and sent again
    assert all(n == 1 for i, n in counts.items() if i not in doubled)
    resent = [e for e in events(tmp_path, 2) if e["event"] == "outbox_in_flight_resent"]
    assert [str(e["url"]) for e in resent] == [f"https://news.example/story/{doubled[0]}"]
