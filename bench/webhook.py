"""The webhook benchmark (issue 14): readers' reply latency with updates by long polling and by webhook,
side by side in one run.

The bot runs as deployed (`newsbot run`, its own process) on a copy of a 20,000-article database, against
the local Bot API stand-in in this process. Polling: the bot's getUpdates long poll brings each message.
Webhook: the stand-in POSTs each update to the bot's own HTTP server (`/telegram`, with the secret
token), which acknowledges it and queues it for the handlers. The modes alternate, `rounds` times each, so
machine noise falls on both; a reply's latency is from the update injected into the stand-in to the
bot's answer received by it, one new reader every 40 ms.
"""

from __future__ import annotations

import socket
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.chat import SPACING, WARMUP, asker, bot_process, paced, quiet_bot_env
from bench.chatdb import cached_database, working_copy
from bench.report import Goal, latency_summary
from bot.sandbox.botapi import LocalBotAPI

TOKEN = "123456:BENCH-token-webhook-aaaaaaaaaaaaaaaaa"
CHANNEL = -1001234567891
ARTICLES = 20_000
P99_GOAL_MS = 100.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _round(
    mode: str, db_path: Path, samples: int, first_user: int, bot_log: Path | None
) -> list[float]:
    async with LocalBotAPI(TOKEN, private_limit=(20, 1.0)) as api:
        api.retry_delay = 0.05  # an update refused while the bot starts is sent again soon (warm-up)
        api.add_chat(CHANNEL, username="benchwebhook", title="Bench Webhook")
        env = quiet_bot_env(TOKEN, api, CHANNEL, db_path, COMMAND_BURST="1000")
        if mode == "webhook":
            port = _free_port()
            env |= {
                "TELEGRAM_MODE": "webhook",
                "HTTP_LISTEN": f"127.0.0.1:{port}",
                "PUBLIC_URL": f"http://127.0.0.1:{port}",
            }
            ready = lambda: api.webhook is not None  # noqa: E731
        else:
            ready = lambda: bool(api.calls("getUpdates"))  # noqa: E731
        argv = [sys.executable, "-m", "bot", "run"]
        async with bot_process(argv, env, api, bot_log, ready=ready):
            replies = await paced(asker(api), ["/latest"] * (samples + WARMUP), first_user)
        if mode == "webhook":
            assert api.webhook is not None
            assert api.webhook.delivered >= samples, "updates did not go by webhook"
        else:
            assert api.calls("getUpdates"), "updates did not go by polling"
    return [ms for _, ms, _ in replies[WARMUP:]]


async def run(
    *,
    samples: int = 150,
    rounds: int = 2,
    articles: int = ARTICLES,
    cache_dir: Path,
    bot_log: Path | None = None,
) -> dict[str, Any]:
    cached, fill = cached_database(cache_dir, articles)
    measured: dict[str, list[float]] = {"polling": [], "webhook": []}
    with tempfile.TemporaryDirectory(prefix="bench-webhook-") as tmp:
        for r in range(rounds):
            for i, mode in enumerate(("polling", "webhook") if r % 2 == 0 else ("webhook", "polling")):
                workdir = Path(tmp) / f"{mode}-{r}"
                workdir.mkdir()
                db_path = working_copy(cached, workdir)
                user = 100_000 + (2 * r + i) * 10_000
                measured[mode] += await _round(mode, db_path, samples, user, bot_log)
    summary = {mode: latency_summary(ms) for mode, ms in measured.items()}
    ratio = (
        summary["webhook"]["p50_ms"] / summary["polling"]["p50_ms"] if summary["polling"]["p50_ms"] else 0.0
    )
    goals = [
        Goal(
            f"/latest by {mode}: p99 under {P99_GOAL_MS:g} ms",
            f"< {P99_GOAL_MS:g} ms",
            f"p50 {s['p50_ms']:.1f} / p99 {s['p99_ms']:.1f} ms (n={s['n']})",
            s["n"] > 0 and s["p99_ms"] < P99_GOAL_MS,
        )
        for mode, s in summary.items()
    ]
    lines = [
        f"  {fill['articles']:,} articles; {rounds} rounds per mode, alternating; one /latest every "
        f"{SPACING * 1000:g} ms, each from a new reader",
        *(
            f"  {mode:<8} p50 {s['p50_ms']:>6.1f}  p99 {s['p99_ms']:>6.1f}  "
            f"max {s['max_ms']:>6.1f} ms (n={s['n']})"
            for mode, s in summary.items()
        ),
        f"  webhook / polling p50: {ratio:.2f}x",
    ]
    return {
        "database": fill,
        "polling": summary["polling"],
        "webhook": summary["webhook"],
        "webhook_over_polling_p50": round(ratio, 3),
        "goals": [g.as_dict() for g in goals],
        "lines": lines,
    }
