"""`python -m bench` at toy size, through the same code paths as `make bench`, so the benchmarks cannot rot.

Five feeds (the first five shapes of the farm's mix), a 25-post burst with Telegram's window cut to one
second, a thousand articles: the result JSON must have every section's numbers and goals, and the numbers
must be the right counts. Nothing here is timed against a goal: the machine running the suite says nothing
about the bot's speed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.farm import farm_feed
from tests.kits import ROOT

FEEDS = 5


def _goals_ok(section: dict[str, Any]) -> None:
    assert section["goals"], "a section without goals"
    for goal in section["goals"]:
        assert set(goal) == {"goal", "target", "measured", "pass"}
        assert isinstance(goal["pass"], bool)
    assert section["lines"]
    assert all(isinstance(line, str) for line in section["lines"])


def test_bench_runs_every_section_at_toy_size(tmp_path: Path) -> None:
    out = tmp_path / "results" / "latest.json"
    argv = [
        sys.executable, "-m", "bench",
        "--feeds", str(FEEDS), "--rounds", "1",
        "--quick", "--scale", "60", "--posts", "25", "--steady", "3",
        "--articles", "1000", "--chat-feeds", str(FEEDS), "--samples", "5",
        "--cache-dir", str(tmp_path / "cache"), "--out", str(out),
        "--fresh-seconds", "12", "--fresh-poll", "10", "--fresh-sites", "busy=1,quiet=2,ping=1,push=1",
        "--review-presses", "2", "--footprint-feeds", str(FEEDS), "--footprint-idle", "1",
        "--burst-stories", "6", "--burst-subscribers", "10", "--burst-readers", "10",
    ]  # fmt: skip
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=360, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(out.read_text())
    assert set(result["sections"]) == {
        "ingest",
        "publish",
        "chat",
        "freshness",
        "review",
        "footprint",
        "webhook",
        "burst",
    }
    assert result["machine"]["cpus"] >= 1
    assert out.with_suffix(".log").stat().st_size > 0  # the bot logged, to the file and not the report
    assert b"bot_started" in out.with_suffix(".chat-bots.log").read_bytes()  # the chat bench's bot process
    for name, section in result["sections"].items():
        assert "error" not in section, f"{name}: {section.get('error')}"
        _goals_ok(section)
        assert f"== {name} ==" in done.stdout
    assert done.stdout.count("[PASS]") + done.stdout.count("[MISS]") == sum(
        len(s["goals"]) for s in result["sections"].values()
    )

    ingest = result["sections"]["ingest"]
    entries = sum(farm_feed(i).items for i in range(FEEDS))
    assert ingest["mix"]["entries"] == entries
    assert len(ingest["mix"]["shapes"]) == FEEDS  # the first feeds of the mix are each of another shape
    ours = ingest["newsbot"]["median"]
    assert ours["entries"] == ours["cold_new"] == entries
    assert ours["warm_not_modified"] == FEEDS
    assert ours["cold_failed"] == ours["warm_failed"] == 0
    assert ours["cold_s"] > 0
    assert ours["warm_s"] > 0
    assert ours["cold_stall_ms"] >= 0
    assert ours["peak_tree_mib"] > 10
    assert ours["processes"] >= 2
    assert ours["cpu_s"] >= ours["cpu_main_s"] >= ours["cpu_loop_s"] > 0
    assert ingest["reader"]["median"]["entries"] == entries  # `make` installs the bench extras
    assert ingest["ratios"]["cold_throughput"] > 0
    assert ingest["ratios"]["warm_speed"] > 0

    burst = result["sections"]["burst"]
    assert burst["stories"] == burst["posted"] == 6
    assert burst["status_429"] == 0
    assert burst["replies"]["n"] >= 1

    hooked = result["sections"]["webhook"]
    assert hooked["polling"]["n"] == hooked["webhook"]["n"] == 2 * 5  # two rounds of five replies each
    assert hooked["webhook_over_polling_p50"] > 0

    publish = result["sections"]["publish"]
    assert publish["quick"]
    assert publish["window_s"] == 1.0
    assert "--quick" in publish["lines"][0]
    assert publish["steady"]["posts"] == 3
    assert publish["burst"]["posts"] == 25
    for case in (publish["steady"], publish["burst"]):
        assert case["posted_once"]
        assert case["status_429"] == 0
        assert case["observed"]["n"] == case["recorded"]["n"] == case["posts"]
        assert 0 < case["observed"]["p50_ms"] <= case["observed"]["p99_ms"]

    chat = result["sections"]["chat"]
    assert chat["database"]["articles"] == 1000
    assert not chat["database"]["cached"]
    assert chat["ingest_cycle"]["new"] == entries
    assert chat["errors"] == 0
    for phase in ("while_ingesting", "idle"):
        assert set(chat[phase]) == {"/latest", "/topic", "/search", "@inline"}
    assert all(s["n"] == 5 and s["p50_ms"] > 0 for s in chat["idle"].values())
    assert {t: b["n"] for t, b in chat["bare_ptb"].items()} == {"httpx": 5, "aiohttp": 5}
    commands = {p["command"].split()[0] for p in chat["query_plans"]}
    assert commands == {"/latest", "/topic", "/search"}
    assert all(p["plan"] and not p["full_scans"] for p in chat["query_plans"])

    footprint = result["sections"]["footprint"]
    assert footprint["cycle"]["feeds"] == FEEDS
    assert footprint["cycle_peak_processes"] > len(footprint["idle"]["processes"])  # workers came and went
    idle = {kind for kind, _ in footprint["idle"]["processes"]}
    assert idle == {"bot", "resource tracker", "forkserver", "ingest"}  # no parse workers while idle

    fresh = result["sections"]["freshness"]
    assert fresh["sites"] == {"busy": 1, "quiet": 2, "ping": 1, "push": 1}
    assert b"http_server_started" in out.with_suffix(".freshness-bots.log").read_bytes()
    for side in ("fixed", "instant"):
        assert fresh[side]["requests_per_hour"] > 0
        assert fresh[side]["busy"]["stories"] >= 1  # a busy site publishes every 8 s at this size
    for kind in ("ping", "push"):  # the instant bot posts every story it was told of, at once
        assert fresh["instant"][kind]["posted"] == fresh["instant"][kind]["stories"]
