"""The container image end to end (issue 14): built with podman exactly as `make image` builds it
(container/build.sh), run against the local Bot API stand-in and a feed server on loopback, it posts the
feed's story to the channel, keeps its database on the /data volume as uid 10001, passes its HEALTHCHECK,
and `podman stop` (SIGTERM to PID 1, the bot itself) ends it with exit code 0 within seconds.

Slow (a cold build is about two minutes; later ones reuse the cached base and layers). Skipped only where
the machine has no podman and cannot install it (the build script exits 3 and says why).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from uuid import uuid4

import aiohttp
import pytest

from bench.farm import free_port
from bot.sandbox.botapi import LocalBotAPI
from tests.kits.feedserver import FeedServer

pytestmark = pytest.mark.container

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "container" / "build.sh"
CONF = ROOT / "container" / "containers.conf"
IMAGE = "localhost/newsbot:latest"
NO_PODMAN = 3  # build.sh: no podman here and it cannot be installed
# what works on these VMs (../shared/CONTAINERS.md): runc, explicit rlimits, the host's loopback
RUN_FLAGS = (
    *("--runtime", "runc", "--network", "host"),
    *("--ulimit", "nofile=20000:20000", "--ulimit", "nproc=32768:32768"),
)
TOKEN = "123456:TEST-token-for-container-aaaaaaaaaa"
CHANNEL = -1001234567890
HEADLINE = "Container story: the bot runs in its image"


def rss(site: str) -> str:
    published = format_datetime(datetime.now(UTC) - timedelta(minutes=5))
    return (
        f'<rss version="2.0"><channel><title>Daily Planet</title><link>{site}</link>'
        f"<item><title>{HEADLINE}</title><link>{site}story/1</link><guid>{site}story/1</guid>"
        f"<description>Built, started and stopped by the test.</description><pubDate>{published}</pubDate>"
        "</item></channel></rss>"
    )


async def sh(*argv: str, timeout: float = 60) -> tuple[int, str]:
    """Run a command without blocking the loop (the stand-in answers meanwhile): (exit code, output)."""
    env = {"CONTAINERS_CONF": str(CONF), "NEWSBOT_IMAGE": IMAGE}
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, **env},
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    return proc.returncode or 0, out.decode(errors="replace")


async def podman(*args: str, timeout: float = 60) -> str:
    code, out = await sh("podman", *args, timeout=timeout)
    assert code == 0, f"podman {' '.join(args[:2])} failed ({code}):\n{out[-3000:]}"
    return out.strip()


async def build_image() -> None:
    code, out = await sh("bash", str(BUILD), timeout=1200)
    if code == NO_PODMAN:
        pytest.skip(f"no podman on this machine and it cannot be installed: {out.strip()[-300:]}")
    assert code == 0, f"container/build.sh failed ({code}):\n{out[-4000:]}"


@pytest.mark.timeout(1500)
async def test_the_image_posts_passes_its_healthcheck_and_stops_on_sigterm() -> None:
    await build_image()
    name = f"newsbot-test-{uuid4().hex[:10]}"
    async with LocalBotAPI(TOKEN) as api, FeedServer() as feeds:
        api.add_chat(CHANNEL, username="mynews", title="My News")
        feeds.route("/feed.xml", rss(feeds.url("/")))
        port = free_port()
        env = {
            "BOT_TOKEN": TOKEN,
            "TELEGRAM_API_URL": api.api_url,
            "CHANNEL_ID": str(CHANNEL),
            "FEEDS": feeds.url("/feed.xml"),
            "HTTP_LISTEN": f"127.0.0.1:{port}",
            "PARSE_WORKERS": "1",
        }
        await podman("volume", "create", name)
        try:
            env_flags = [flag for key, value in env.items() for flag in ("-e", f"{key}={value}")]
            await podman("run", "-d", "--name", name, *RUN_FLAGS, "-v", f"{name}:/data", *env_flags, IMAGE)

            post = await api.wait_for(lambda m: HEADLINE in m.text, timeout=90)
            assert post.chat_id == CHANNEL

            # PID 1 is the bot (exec form), as the image's non-root user; the database is on the volume
            argv = (await podman("exec", name, "cat", "/proc/1/cmdline")).strip("\0").split("\0")
            assert Path(argv[0]).name.startswith("python"), argv
            assert argv[1:] == ["/opt/venv/bin/newsbot", "run"]
            assert (await podman("exec", name, "id", "-u")) == "10001"
            mountpoint = Path(await podman("volume", "inspect", name, "--format", "{{.Mountpoint}}"))
            database = mountpoint / "newsbot.db"
            assert database.is_file()
            assert database.stat().st_uid == 10001

            # the image's HEALTHCHECK (python urllib on HTTP_LISTEN's /healthz), and /healthz itself
            await podman("healthcheck", "run", name)  # exit 0 = healthy
            async with (
                aiohttp.ClientSession() as http,
                http.get(f"http://127.0.0.1:{port}/healthz") as answer,
            ):
                assert answer.status == 200
                assert (await answer.json())["status"] == "ok"

            started = time.monotonic()
            await podman("stop", "--time", "15", name, timeout=30)
            stopped_in = time.monotonic() - started
            state = json.loads(await podman("inspect", name, "--format", "{{json .State}}"))
            logs = await podman("logs", name)
            assert state["ExitCode"] == 0, logs[-3000:]
            assert stopped_in < 5, f"took {stopped_in:.1f} s to stop on SIGTERM"
            assert "bot_stopped" in logs
            assert TOKEN.split(":")[1] not in logs

            await podman("rm", name)
            assert await podman("ps", "--all", "--quiet", "--filter", f"name=^{name}$") == ""
        finally:
            await sh("podman", "rm", "--force", "--time", "0", name)
            await sh("podman", "volume", "rm", "--force", name)
