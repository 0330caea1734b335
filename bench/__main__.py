"""`python -m bench [SECTION] [options]`: runs the benchmarks (all sections, or the one named).

Each section lives in its own module (bench/ingest.py, bench/publish.py, bench/chat.py,
bench/freshness.py, bench/review.py, bench/footprint.py, bench/webhook.py, bench/burst.py) and returns
its numbers and goals; this module parses the command line, runs the sections in order, and writes
`bench/results/latest.json` (or `--out`). A section that fails is reported as failed; the others still run."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from bench import burst, chat, footprint, freshness, ingest, publish, review, webhook
from bench.report import machine, render
from bot.logs import configure_logging

RESULTS = Path(__file__).resolve().parent / "results"
SECTIONS = ("ingest", "publish", "chat", "freshness", "review", "footprint", "webhook", "burst")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("section", nargs="?", choices=SECTIONS, help="run only this section")
    parser.add_argument("--feeds", type=int, default=1000, help="ingest: feeds in the farm (default 1000)")
    parser.add_argument(
        "--rounds", type=int, help="ingest: rounds per side (default 3 for newsbot, 1 for reader)"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="publish: Telegram's per-channel window cut 10x (20 posts per 6 s), said so in the report",
    )
    parser.add_argument(
        "--scale", type=float, help="publish: with --quick, divide the window by this instead"
    )
    parser.add_argument("--posts", type=int, default=60, help="publish: the burst size (default 60)")
    parser.add_argument(
        "--steady", type=int, default=20, help="publish: posts in the steady case (default 20)"
    )
    parser.add_argument("--articles", type=int, default=1_000_000, help="chat: articles in the database")
    parser.add_argument("--chat-feeds", type=int, default=1000, help="chat: farm feeds ingested meanwhile")
    parser.add_argument("--samples", type=int, default=150, help="chat: replies timed per command")
    parser.add_argument(
        "--cache-dir", type=Path, default=RESULTS, help="chat: where the filled database is kept between runs"
    )
    parser.add_argument(
        "--fresh-seconds", type=float, default=240.0, help="freshness: seconds of publishing (default 240)"
    )
    parser.add_argument(
        "--fresh-poll", type=int, default=60, help="freshness: the fixed schedule's interval (default 60)"
    )
    parser.add_argument(
        "--fresh-sites",
        default="busy=4,quiet=40,ping=2,push=2",
        help="freshness: sites of each kind (default busy=4,quiet=40,ping=2,push=2)",
    )
    parser.add_argument(
        "--review-presses",
        type=int,
        default=200,
        help="review: Post presses timed (default 200, round 10 topic channels, 0.31 s apart)",
    )
    parser.add_argument("--burst-stories", type=int, default=60, help="burst: stories stored at once (60)")
    parser.add_argument(
        "--burst-subscribers", type=int, default=1000, help="burst: subscribers of the stories' topic (1000)"
    )
    parser.add_argument("--burst-readers", type=int, default=200, help="burst: readers chatting (200)")
    parser.add_argument("--footprint-feeds", type=int, default=50, help="footprint: feeds (default 50)")
    parser.add_argument(
        "--footprint-idle",
        type=int,
        default=60,
        help="footprint: the bot's PARSE_IDLE_SECONDS (default 60, the default setting)",
    )
    parser.add_argument(
        "--out", type=Path, default=RESULTS / "latest.json", help="the JSON results (the log goes next to it)"
    )
    args = parser.parse_args(argv)
    names = ("feeds", "posts", "steady", "articles", "samples", "chat_feeds", "review_presses")
    for name in (
        *names,
        "footprint_feeds",
        "footprint_idle",
        "burst_stories",
        "burst_subscribers",
        "burst_readers",
    ):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.rounds is not None and args.rounds < 1:
        parser.error("--rounds must be at least 1")
    try:
        args.fresh_sites = {k: int(v) for k, v in (p.split("=") for p in args.fresh_sites.split(","))}
    except ValueError:
        parser.error("--fresh-sites is kind=count,... e.g. busy=4,quiet=40,ping=2,push=2")
    if set(args.fresh_sites) - set(freshness.KINDS) or min(args.fresh_sites.values(), default=0) < 0:
        parser.error(f"--fresh-sites kinds are {', '.join(freshness.KINDS)}, counts at least 0")
    if args.fresh_seconds < 10 or args.fresh_poll < 10:
        parser.error("--fresh-seconds and --fresh-poll must be at least 10")
    if args.scale is not None and (not args.quick or args.scale < 1):
        parser.error("--scale goes with --quick and must be at least 1")
    return args


def run_section(name: str, args: argparse.Namespace) -> dict[str, Any]:
    if name == "ingest":
        return ingest.run(
            feeds=args.feeds,
            rounds=args.rounds or 3,
            reader_rounds=args.rounds or 1,
        )
    if name == "publish":
        scale = (args.scale or publish.QUICK_SCALE) if args.quick else 1.0
        return asyncio.run(publish.run(burst=args.posts, steady=args.steady, scale=scale))
    if name == "review":
        return asyncio.run(review.run(presses=args.review_presses))
    if name == "footprint":
        log = args.out.with_suffix(".footprint-bots.log")
        return asyncio.run(
            footprint.run(feeds=args.footprint_feeds, parse_idle=args.footprint_idle, bot_log=log)
        )
    if name == "burst":
        return asyncio.run(
            burst.run(
                stories=args.burst_stories,
                subscribers=args.burst_subscribers,
                readers=args.burst_readers,
                bot_log=args.out.with_suffix(".burst-bots.log"),
            )
        )
    if name == "webhook":
        return asyncio.run(
            webhook.run(
                samples=args.samples,
                articles=min(args.articles, webhook.ARTICLES),
                cache_dir=args.cache_dir,
                bot_log=args.out.with_suffix(".webhook-bots.log"),
            )
        )
    if name == "freshness":
        return asyncio.run(
            freshness.run(
                duration=args.fresh_seconds,
                poll=args.fresh_poll,
                sites=args.fresh_sites,
                bot_log=args.out.with_suffix(".freshness-bots.log"),
            )
        )
    return asyncio.run(
        chat.run(
            articles=args.articles,
            feeds=args.chat_feeds,
            samples=args.samples,
            cache_dir=args.cache_dir,
            bot_log=args.out.with_suffix(".chat-bots.log"),
        )
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    log_path = args.out.with_suffix(".log")
    result: dict[str, Any] = {"machine": machine(), "sections": {}}
    with log_path.open("w", encoding="utf-8") as log_file:
        configure_logging("INFO", "json", stream=log_file)  # the bot's own lines, as in production
        for name in [args.section] if args.section else SECTIONS:
            print(f"running {name} …", file=sys.stderr, flush=True)
            started = time.perf_counter()
            try:
                section = run_section(name, args)
            except Exception as exc:  # noqa: BLE001 - one broken section must not hide the others' numbers
                traceback.print_exc()
                section = {"error": f"{type(exc).__name__}: {exc}"}
            section["seconds"] = round(time.perf_counter() - started, 1)
            result["sections"][name] = section
    args.out.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(render(result))
    print(
        f"\nwritten to {args.out} (the bot's log: {log_path}; the bot processes' logs of the chat and "
        f"freshness sections: {args.out.with_suffix('.chat-bots.log')}, "
        f"{args.out.with_suffix('.freshness-bots.log')})"
    )
    failed = [n for n, s in result["sections"].items() if "error" in s]
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
