"""bot/core stays pure: importing any of its modules in a fresh interpreter loads no I/O library."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import bot.core

FORBIDDEN = ("httpx", "aiosqlite", "telegram", "aiohttp")
MODULES = sorted(f"bot.core.{m.name}" for m in pkgutil.iter_modules(bot.core.__path__))
ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import importlib, json, sys
importlib.import_module(sys.argv[1])
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in {forbidden})))
"""


def test_core_has_modules() -> None:
    assert "bot.core.models" in MODULES
    assert "bot.core.feedparse" in MODULES


@pytest.mark.parametrize("module", MODULES)
def test_module_imports_no_io_library(module: str) -> None:
    probe = PROBE.format(forbidden=set(FORBIDDEN))
    done = subprocess.run(
        [sys.executable, "-c", probe, module],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == [], f"{module} loads an I/O library"
