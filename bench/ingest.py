"""The ingest benchmark (issues 3 and 11): newsbot's cycle and lemon24/reader's `update_feeds`, side by side.

Both sides read the same loopback farm (bench/farm.py: 1,000 feeds in the shapes the web serves, WordPress
with and without content:encoded, newsroom RSS, Atom, JSON Feed, 10 to 100 items), each round in a fresh
process with a fresh database (bench/side_newsbot.py, bench/side_reader.py), one cold cycle (every entry
new) then one warm cycle (every feed answers 304). Rounds alternate between the sides so that a noisy
neighbour on the machine hurts both; medians are reported, and the ratios are those of the medians.
Memory is the peak of the summed PSS of the side's process tree (newsbot's parse workers included),
sampled from here (bench/proctree.py).
"""

from __future__ import annotations

import importlib.util
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.farm import HOSTS, SHAPES, Farm
from bench.proctree import run_sampled
from bench.report import Goal, median

ROOT = Path(__file__).resolve().parents[1]
COLD_GOAL = 5.0  # newsbot's cold entries/s at least this many times reader's
WARM_GOAL = 1.5  # newsbot's warm cycle at least this many times faster than reader's
STALL_GOAL_MS = 100.0


def _order(ours: int, theirs: int) -> list[str]:
    """Alternate the sides (newsbot first), then whatever rounds one side has left."""
    order: list[str] = []
    for i in range(max(ours, theirs)):
        if i < ours:
            order.append("newsbot")
        if i < theirs:
            order.append("reader")
    return order


def _one_round(side: str, urls_file: Path, workdir: Path, index: int, timeout: float) -> dict[str, Any]:
    db = workdir / f"{side}-{index}.db"
    argv = [sys.executable, "-m", f"bench.side_{side}", str(urls_file), str(db)]
    out, sampler = run_sampled(argv, timeout=timeout, cwd=ROOT)
    numbers: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    numbers["entries_per_s"] = numbers["entries"] / numbers["cold_s"]
    numbers["peak_tree_mib"] = sampler.peak_mib
    numbers["processes"] = sampler.peak_processes
    numbers["cpu_s"] = sampler.cpu_seconds
    numbers["cpu_main_s"] = sampler.cpu.get(sampler.pid, 0.0)  # the side's process, all its threads
    numbers["cpu_loop_s"] = sampler.main_thread_cpu  # its first thread (newsbot's event loop)
    for path in workdir.glob(f"{side}-{index}.*"):
        path.unlink()
    return numbers


def _medians(runs: list[dict[str, Any]]) -> dict[str, Any]:
    keys = [k for k, v in runs[0].items() if isinstance(v, int | float)] if runs else []
    return {k: median([float(r[k]) for r in runs]) for k in keys}


def run(*, feeds: int, rounds: int, reader_rounds: int, timeout: float = 1800.0) -> dict[str, Any]:
    have_reader = importlib.util.find_spec("reader") is not None
    runs: dict[str, list[dict[str, Any]]] = {"newsbot": [], "reader": []}
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp, Farm(feeds) as farm:
        mix = farm.mix
        workdir = Path(tmp)
        urls_file = workdir / "urls.txt"
        urls_file.write_text("\n".join(farm.urls))
        for i, side in enumerate(_order(rounds, reader_rounds if have_reader else 0)):
            runs[side].append(_one_round(side, urls_file, workdir, i, timeout))
    ours = _medians(runs["newsbot"])
    theirs = _medians(runs["reader"]) if runs["reader"] else None
    result: dict[str, Any] = {
        "feeds": feeds,
        "mix": mix,
        "hosts": min(HOSTS, feeds),
        "rounds": {"newsbot": len(runs["newsbot"]), "reader": len(runs["reader"])},
        "newsbot": {"median": ours, "runs": runs["newsbot"]},
        "reader": {"median": theirs, "runs": runs["reader"]}
        if theirs
        else {"error": "reader is not installed: pip install -e '.[bench]'"},
    }
    worst_stall = max(r["cold_stall_ms"] for r in runs["newsbot"])
    goals = [
        Goal(
            "no event-loop stall over 100 ms in the cold cycle",
            f"< {STALL_GOAL_MS:g} ms",
            f"{ours['cold_stall_ms']:.0f} ms median of {len(runs['newsbot'])}, worst {worst_stall:.0f} ms",
            ours["cold_stall_ms"] < STALL_GOAL_MS,
        )
    ]
    if theirs:
        cold_ratio = ours["entries_per_s"] / theirs["entries_per_s"]
        warm_ratio = theirs["warm_s"] / ours["warm_s"]
        result["ratios"] = {"cold_throughput": cold_ratio, "warm_speed": warm_ratio}
        goals[:0] = [
            Goal(
                "cold throughput vs reader (the mix)",
                f">= {COLD_GOAL:g}x",
                f"{cold_ratio:.2f}x ({ours['entries_per_s']:.0f} vs {theirs['entries_per_s']:.0f} entries/s)",
                cold_ratio >= COLD_GOAL,
            ),
            Goal(
                "warm cycle (all 304) vs reader (the mix)",
                f">= {WARM_GOAL:g}x faster",
                f"{warm_ratio:.2f}x ({ours['warm_s']:.2f} s vs {theirs['warm_s']:.2f} s)",
                warm_ratio >= WARM_GOAL,
            ),
        ]
    else:
        goals.append(Goal("cold and warm vs reader", "reader measured", "reader not installed", False))
    result["goals"] = [g.as_dict() for g in goals]
    result["lines"] = _lines(result, ours, theirs)
    return result


def _lines(result: dict[str, Any], ours: dict[str, Any], theirs: dict[str, Any] | None) -> list[str]:
    r = result["rounds"]
    mix = result["mix"]
    shapes = ", ".join(f"{k} {mix['shapes'][k]['feeds']}" for k in SHAPES if k in mix["shapes"])
    low, mid, high = mix["kib_min_median_max"]
    lines = [
        f"  {result['feeds']} feeds on {result['hosts']} loopback hosts: {mix['entries']:,} entries, "
        f"{mix['mib']:.0f} MiB, in the shapes of the web's news feeds (bench/farm.py):",
        f"    {shapes};",
        "    items per feed (feeds): "
        + ", ".join(f"{n} ({count})" for n, count in mix["items"].items())
        + f"; {low:.0f}-{high:.0f} KiB a feed, median {mid:.0f};",
        f"  medians of {r['newsbot']} newsbot and {r['reader']} reader rounds, each in a fresh process;",
        "  peak MiB: summed PSS of the process tree; CPU s: the whole run (cold + warm + start-up) of",
        "  the first thread + the process's other threads + its child processes",
        "              cold s   entries/s   warm s   peak MiB (procs)   CPU s                    "
        "cold loop stall",
    ]

    def row(name: str, m: dict[str, Any], stall: str) -> str:
        threads, children = m["cpu_main_s"] - m["cpu_loop_s"], m["cpu_s"] - m["cpu_main_s"]
        split = f"{m['cpu_loop_s']:.1f}+{threads:.1f}+{children:.1f}"
        return (
            f"  {name:<10} {m['cold_s']:>8.1f}   {m['entries_per_s']:>9.0f}   {m['warm_s']:>6.2f}   "
            f"{m['peak_tree_mib']:>8.0f} ({m['processes']:.0f})      {m['cpu_s']:>5.1f} = {split:<16} {stall}"
        )

    lines.append(row("newsbot", ours, f"{ours['cold_stall_ms']:.0f} ms"))
    if theirs:
        lines.append(row("reader", theirs, "(no event loop)"))
    else:
        lines.append("  reader     not measured: reader is not installed (pip install -e '.[bench]')")
    return lines
