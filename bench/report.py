"""Statistics, goals and the printed report shared by the benchmark sections; measuring is the sections' job.

A section returns a JSON-ready dict with its numbers and a list of goals (`Goal.as_dict()`); `render`
turns the whole run into the readable report `python -m bench` prints, and `machine` describes where it
ran, since every number here depends on it.
"""

from __future__ import annotations

import math
import os
import platform
import statistics
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else math.nan


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (p99 of 50 samples is the largest): never interpolates past a sample."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return float(ordered[min(rank, len(ordered)) - 1])


def latency_summary(samples_ms: Sequence[float]) -> dict[str, Any]:
    return {
        "n": len(samples_ms),
        "p50_ms": round(percentile(samples_ms, 50), 2),
        "p99_ms": round(percentile(samples_ms, 99), 2),
        "max_ms": round(max(samples_ms), 2) if samples_ms else math.nan,
    }


@dataclass(frozen=True, slots=True)
class Goal:
    """One line of an issue's "Done when": what was wanted, what was measured, and whether it was met."""

    name: str
    target: str
    measured: str
    passed: bool

    def as_dict(self) -> dict[str, Any]:
        return {"goal": self.name, "target": self.target, "measured": self.measured, "pass": self.passed}


def verdict(passed: bool) -> str:
    return "PASS" if passed else "MISS"


def machine() -> dict[str, Any]:
    load = os.getloadavg() if hasattr(os, "getloadavg") else (math.nan,) * 3
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "load_at_start": [round(x, 2) for x in load],
        "argv": sys.argv[1:],
    }


def goal_lines(goals: Sequence[dict[str, Any]]) -> list[str]:
    width = max((len(g["goal"]) for g in goals), default=0)
    return [
        f"  [{verdict(g['pass'])}] {g['goal']:<{width}}  target {g['target']}; measured {g['measured']}"
        for g in goals
    ]


def render(result: dict[str, Any]) -> str:
    """The whole run as text: the machine, then each section's own lines and its goals."""
    m = result["machine"]
    lines = [
        f"newsbot benchmarks — {m['date']}, {m['cpus']} CPUs, Python {m['python']}, "
        f"load average at start {m['load_at_start'][0]}",
    ]
    for name, section in result["sections"].items():
        lines.append("")
        lines.append(f"== {name} ==")
        if "error" in section:
            lines.append(f"  failed: {section['error']}")
            continue
        lines.extend(section.get("lines", []))
        lines.append("  goals:")
        lines.extend(goal_lines(section.get("goals", [])))
    return "\n".join(lines)


def fmt_ms(value: float) -> str:
    return "—" if math.isnan(value) else (f"{value:.1f} ms" if value < 1000 else f"{value / 1000:.2f} s")
