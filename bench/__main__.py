"""`python -m bench [ingest|publish|chat] [options]`: runs the benchmarks, prints the report, writes JSON.

Each section lives in its own module (bench/ingest.py, bench/publish.py, bench/chat.py) and returns its
numbers and goals; this module parses the command line, runs the sections in order, and writes
`bench/results/latest.json` (or `--out`). A section that fails is reported as failed; the others still run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from bench import chat, ingest, publish
from bench.report import machine, render

RESULTS = Path(__file__).resolve().parent / "results"
SECTIONS = ("ingest", "publish", "chat")


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
        help="publish: Telegram's windows scaled down 10x (20 posts per 6 s), said so in the report",
    )
    parser.add_argument("--posts", type=int, default=60, help="publish: the burst size (default 60)")
    parser.add_argument("--steady", type=int, default=20, help="publish: posts in the steady case (default 20)")
    parser.add_argument("--articles", type=int, default=1_000_000, help="chat: articles in the database")
    parser.add_argument("--chat-feeds", type=int, default=200, help="chat: feeds ingested meanwhile")
    parser.add_argument("--samples", type=int, default=150, help="chat: replies timed per command")
    parser.add_argument("--out", type=Path, default=RESULTS / "latest.json", help="where the JSON goes")
    args = parser.parse_args(argv)
    for name in ("feeds", "posts", "steady", "articles", "samples"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    if args.rounds is not None and args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if args.chat_feeds < 0:
        parser.error("--chat-feeds must be 0 or more")
    return args


def run_section(name: str, args: argparse.Namespace) -> dict[str, Any]:
    if name == "ingest":
        return ingest.run(
            feeds=args.feeds,
            rounds=args.rounds or 3,
            reader_rounds=args.rounds or 1,
        )
    if name == "publish":
        return asyncio.run(publish.run(burst=args.posts, steady=args.steady, quick=args.quick))
    return asyncio.run(
        chat.run(articles=args.articles, feeds=args.chat_feeds, samples=args.samples, cache_dir=RESULTS)
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    result: dict[str, Any] = {"machine": machine(), "sections": {}}
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
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(render(result))
    print(f"\nwritten to {args.out}")
    failed = [n for n, s in result["sections"].items() if "error" in s]
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
