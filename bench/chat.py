"""The chat benchmark (issues 5, 13): /latest, /topic, /search and inline-query latency on a million articles
under ingest.

The bot is `newsbot run` in a child process, as deployed (the real PTB Application, handlers, rate gate,
background services and its ingest process), on a copy of the cached million-article database
(bench/chatdb.py), with the farm's feeds (bench/farm.py) as FEEDS, so its first ingest cycle reads them
all cold while readers ask. The local Bot API stand-in runs here, in the benchmark's process, as Telegram
runs elsewhere. A reply's latency is from the update injected into the stand-in to the bot's answer
received by it; requests are paced at 25 a second (under Telegram's 30 messages a second, which the
bot's send budget enforces) and each comes from a different reader, as in a busy channel. The goal counts
only the replies measured while the ingest cycle ran; the same commands measured idle afterwards, and a
bare PTB reply on loopback (a trivial handler in its own process, same stand-in) are printed for
comparison. Inline queries (`@bot words`, issue 13) take turns with the commands; theirs is from the
inline query injected to the bot's answerInlineQuery received.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from itertools import cycle
from pathlib import Path
from typing import Any

from bench.chatdb import SEARCHES, TOPIC, cached_database, plan_lines, query_plans, working_copy
from bench.farm import Farm
from bench.report import Goal, latency_summary
from bot.adapters.db import Database
from bot.edges.command_guard import SORRY
from bot.sandbox.botapi import LocalBotAPI

TOKEN = "123456:BENCH-token-chat-aaaaaaaaaaaaaaaaaaaa"
BARE_TOKEN = "654321:BENCH-token-bare-aaaaaaaaaaaaaaaaaaaa"
CHANNEL = -1001234567890
ADMIN = 4242
SPACING = 0.04  # seconds between requests: 25 a second
WARMUP = 5  # first round trips of each phase (connections being opened) are not counted
P50_GOAL_MS, P99_GOAL_MS = 10.0, 100.0
INLINE = "@inline"  # an inline query (issue 13): `@bot words` typed in any chat
INLINE_P99_GOAL_MS = 50.0
COMMANDS = ("/latest", f"/topic {TOPIC}", "/search", INLINE)


class IngestWatch:
    """Follows the bot's ingest, which runs in a process of its own, through the database: from the
    first farm article stored to the moment every farm feed's fetch is recorded (the cold cycle)."""

    def __init__(self, db_path: Path, feeds: int) -> None:
        self.db_path = db_path
        self.feeds = feeds
        self.fetched = 0
        self.started = False
        self.cycles: list[dict[str, Any]] = []

    async def follow(self, stop: asyncio.Event) -> None:
        """Poll (cheap statements only: the watcher shares the stand-in's process) until the cycle ends."""
        db = await Database(self.db_path).open(migrate=False, read_only=True)
        try:
            feeds_before = await self._scalar(db, "SELECT coalesce(max(id), 0) FROM feeds")
            articles_before = await self._scalar(db, "SELECT coalesce(max(id), 0) FROM articles")
            started: float | None = None
            while not stop.is_set() and not self.cycles:
                # articles land feed by feed; the feeds' fetch times are recorded in batches
                if (
                    started is None
                    and await self._scalar(db, "SELECT max(id) FROM articles") > articles_before
                ):
                    started = time.perf_counter()
                    self.started = True
                self.fetched = await self._scalar(
                    db,
                    "SELECT count(*) FROM feeds WHERE id > ? AND last_fetched_at IS NOT NULL",
                    feeds_before,
                )
                if self.fetched >= self.feeds and started is not None:
                    seconds = round(time.perf_counter() - started, 3)
                    new = await self._scalar(
                        db, "SELECT count(*) FROM articles WHERE id > ?", articles_before
                    )
                    self.cycles.append({"feeds": self.fetched, "new": new, "seconds": seconds})
                await asyncio.sleep(0.1)
        finally:
            await db.close()

    @staticmethod
    async def _scalar(db: Database, sql: str, *params: int) -> int:
        row = await db.fetchone(sql, params)
        return int(row[0]) if row and row[0] is not None else 0


Ask = Callable[[str, int], Awaitable[tuple[float, str]]]


def asker(api: LocalBotAPI) -> Ask:
    async def ask(text: str, user_id: int) -> tuple[float, str]:
        started = time.perf_counter()
        if text.startswith(INLINE):  # update injected -> answerInlineQuery received
            query = api.inject_inline_query(text.removeprefix(INLINE).strip(), user_id=user_id)
            answer = await api.wait_for_inline_answer(query, timeout=30)
            return (time.perf_counter() - started) * 1000, f"{len(answer.results)} inline results"
        api.inject_message(text, user_id=user_id)
        reply = await api.wait_for_reply(user_id, timeout=30)
        return (time.perf_counter() - started) * 1000, reply.text

    return ask


async def paced(
    ask: Ask, texts: list[str], first_user: int, keep_going: Callable[[], bool] = lambda: True
) -> list[tuple[str, float, str]]:
    """Ask each text as a new reader, one every SPACING s, while `keep_going()`; (text, ms, reply)."""
    out: list[tuple[str, float, str]] = []
    for i, text in enumerate(texts):
        if not keep_going():
            break
        started = time.perf_counter()
        ms, reply = await ask(text, first_user + i)
        out.append((text, ms, reply))
        # never faster than one every SPACING s, and no catching up in bursts after a slow reply
        await asyncio.sleep(max(0.0, started + SPACING - time.perf_counter()))
    return out


async def bare_ptb(samples: int, transport: str = "httpx", log_path: Path | None = None) -> dict[str, Any]:
    """Round trips of a trivial python-telegram-bot handler (bench/bare_bot.py, its own process)."""
    argv = [sys.executable, "-m", "bench.bare_bot"]
    async with (
        LocalBotAPI(BARE_TOKEN, private_limit=(20, 1.0)) as api,
        bot_process([*argv, api.api_url, BARE_TOKEN, transport], {}, api, log_path),
    ):
        replies = await paced(asker(api), ["/ping"] * (samples + WARMUP), 10_000)
    return latency_summary([ms for _, ms, _ in replies[WARMUP:]])


@contextlib.asynccontextmanager
async def bot_process(
    argv: list[str],
    env: dict[str, str],
    api: LocalBotAPI,
    log_path: Path | None = None,
    ready: Callable[[], bool] | None = None,
) -> AsyncIterator[None]:
    """A bot in a child process, as deployed, polling `api`; yields once it polls (or `ready()`), stops it
    with SIGTERM. Its output is appended to `log_path` (a temporary file without one).

    Telegram is not in the bot's process in production, so the bot gets its own here: the stand-in
    (this process) and the bot do not share one event loop and one core."""
    with log_path.open("a+b") if log_path else tempfile.TemporaryFile() as log:
        process = await asyncio.create_subprocess_exec(
            *argv, env={**os.environ, **env}, stdout=log, stderr=log, stdin=asyncio.subprocess.DEVNULL
        )
        try:
            up = ready or (lambda: bool(api.calls("getUpdates")))
            await api.wait_until(lambda: up() or process.returncode is not None, timeout=60)
            if process.returncode is not None:
                log.seek(0)
                tail = log.read().decode(errors="replace").strip().splitlines()[-5:]
                raise RuntimeError(f"{argv[2]} exited with {process.returncode}: " + " | ".join(tail))
            yield
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(process.wait(), timeout=30)
                except TimeoutError:
                    process.kill()
                    await process.wait()


def quiet_bot_env(token: str, api: LocalBotAPI, channel: int, db_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a `newsbot run` child on `api` that reads no feeds and posts no backfill."""
    return {
        "BOT_TOKEN": token,
        "TELEGRAM_API_URL": api.api_url,
        "CHANNEL_ID": str(channel),
        "DATABASE_PATH": str(db_path),
        "FEEDS": "",
        "BACKFILL_MAX_POSTS": "0",
        "LOG_FORMAT": "json",
        **extra,
    }


def _texts(n: int) -> list[str]:
    """`n` requests of each command, interleaved; searches rotate through SEARCHES."""
    words = cycle(SEARCHES)
    return [c if c not in ("/search", INLINE) else f"{c} {next(words)}" for _ in range(n) for c in COMMANDS]


def _by_command(replies: list[tuple[str, float, str]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for command in COMMANDS:
        ms = [m for text, m, _ in replies if text.startswith(command)]
        out[command.split()[0]] = latency_summary(ms)
    return out


async def run(
    *, articles: int, feeds: int, samples: int, cache_dir: Path, bot_log: Path | None = None
) -> dict[str, Any]:
    """The section; the bots' own logs (they run as child processes) go to `bot_log`."""
    if bot_log is not None:
        bot_log.write_bytes(b"")
    cached, fill = cached_database(cache_dir, articles)
    bare = {transport: await bare_ptb(samples, transport, bot_log) for transport in ("httpx", "aiohttp")}
    with tempfile.TemporaryDirectory(prefix="bench-chat-") as tmp, Farm(feeds) as farm:
        db_path = working_copy(cached, Path(tmp))
        plans = await query_plans(db_path)
        watch = IngestWatch(db_path, feeds)
        during, idle, floods = await _measure(db_path, farm.urls[:feeds], watch, samples, bot_log)
    cycle_info = watch.cycles[0] if watch.cycles else {}
    busy, quiet = _by_command(during), _by_command(idle)
    errors = sum(SORRY in reply or "slow down" in reply.lower() for _, _, reply in during + idle)
    goals = [
        Goal(
            f"{name} while ingesting: p50 under {P50_GOAL_MS:g} ms and p99 under {P99_GOAL_MS:g} ms",
            f"< {P50_GOAL_MS:g} / < {P99_GOAL_MS:g} ms",
            f"{s['p50_ms']:.1f} / {s['p99_ms']:.1f} ms (n={s['n']})",
            s["n"] > 0 and s["p50_ms"] < P50_GOAL_MS and s["p99_ms"] < P99_GOAL_MS,
        )
        for name, s in busy.items()
        if name != INLINE
    ]
    inline = busy[INLINE]
    goals.append(
        Goal(
            f"inline queries while ingesting: p50 under {P50_GOAL_MS:g} ms and p99 under "
            f"{INLINE_P99_GOAL_MS:g} ms",
            f"< {P50_GOAL_MS:g} / < {INLINE_P99_GOAL_MS:g} ms",
            f"{inline['p50_ms']:.1f} / {inline['p99_ms']:.1f} ms (n={inline['n']})",
            inline["n"] > 0 and inline["p50_ms"] < P50_GOAL_MS and inline["p99_ms"] < INLINE_P99_GOAL_MS,
        )
    )
    scans = [f"{p['command']}: {s}" for p in plans for s in p["full_scans"]]
    goals.append(
        Goal("query plans use indexes (no full scan)", "no full scan", "; ".join(scans) or "none", not scans)
    )
    goals.append(Goal("every request answered properly", "0 errors", str(errors), errors == 0))
    source = "cached" if fill["cached"] else "filled now"
    lines = [
        f"  {fill['articles']:,} articles ({fill['size_mib']} MiB; filled in {fill['fill_s']} s "
        "+ FTS optimize "
        f"{fill.get('fts_optimize_s', '?')} s, {source});",
        f"  {feeds} farm feeds ingested cold meanwhile (in the bot's ingest process): "
        f"{cycle_info.get('new', '?')} new articles in {cycle_info.get('seconds', '?')} s",
        f"  one request every {SPACING * 1000:g} ms, each from a new reader;",
        "  latency = update injected → reply received by the local Bot API",
        "              while ingesting               idle afterwards",
    ]
    for name in busy:
        b, q = busy[name], quiet[name]
        lines.append(
            f"  {name:<10}  p50 {b['p50_ms']:>6.1f}  p99 {b['p99_ms']:>6.1f} ms (n={b['n']:<3})"
            f"   p50 {q['p50_ms']:>6.1f}  p99 {q['p99_ms']:>6.1f} ms (n={q['n']})"
        )
    lines.append(
        "  bare PTB reply round trip (trivial handler, own process), side by side: "
        + ", ".join(f"{t} p50 {b['p50_ms']:.1f} / p99 {b['p99_ms']:.1f} ms" for t, b in bare.items())
        + " (the bot uses aiohttp)"
    )
    lines.append(
        f"  429s from the local Bot API meanwhile: {floods} (BACKFILL_MAX_POSTS=0: the replies alone use "
        "Telegram's 30 messages/s)"
    )
    lines.extend(plan_lines(plans))
    return {
        "database": fill,
        "feeds": feeds,
        "ingest_cycle": cycle_info,
        "while_ingesting": busy,
        "idle": quiet,
        "bare_ptb": bare,
        "errors": errors,
        "status_429": floods,
        "query_plans": plans,
        "goals": [g.as_dict() for g in goals],
        "lines": lines,
    }


async def _measure(
    db_path: Path, urls: list[str], watch: IngestWatch, samples: int, bot_log: Path | None
) -> tuple[list[tuple[str, float, str]], list[tuple[str, float, str]], int]:
    """Run the bot; ask while its first ingest cycle runs, then as many again once it is over."""
    async with LocalBotAPI(TOKEN, private_limit=(20, 1.0)) as api:
        api.add_chat(CHANNEL, username="benchnews", title="Bench News", admins={ADMIN: "creator"})
        env = {
            "BOT_TOKEN": TOKEN,
            "TELEGRAM_API_URL": api.api_url,
            "CHANNEL_ID": str(CHANNEL),
            "ADMIN_IDS": str(ADMIN),
            "DATABASE_PATH": str(db_path),
            "FEEDS": ",".join(urls),
            # no channel posts: replies alone use Telegram's 30 messages/s (bursts of posts are publish's)
            "BACKFILL_MAX_POSTS": "0",
            "LOG_FORMAT": "json",
        }
        stop = asyncio.Event()
        following = asyncio.create_task(watch.follow(stop))
        try:
            async with bot_process([sys.executable, "-m", "bot", "run"], env, api, bot_log):
                ask = asker(api)
                await paced(ask, ["/latest"] * WARMUP, 20_000)
                await _until(lambda: watch.started or bool(watch.cycles), "the first feed read", 120)
                during = await paced(ask, _texts(samples), 30_000, lambda: not watch.cycles)
                await _until(lambda: bool(watch.cycles), "the end of the ingest cycle", 600)
                idle = await paced(ask, _texts(samples), 60_000)
        finally:
            stop.set()
            await following
        floods = api.count_429
    return during, idle, floods


async def _until(check: Callable[[], bool], what: str, timeout: float) -> None:
    deadline = time.perf_counter() + timeout
    while not check():
        if time.perf_counter() > deadline:
            raise TimeoutError(f"waited {timeout:g} s for {what}")
        await asyncio.sleep(0.02)
