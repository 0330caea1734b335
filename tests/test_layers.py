"""Imports point inward only (DESIGN.md): core < adapters < services < edges, checked on the source."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

BOT = Path(__file__).resolve().parents[1] / "bot"
# what each layer must never import
FORBIDDEN = {
    "core": ("bot.adapters", "bot.services", "bot.edges", "bot.settings", "bot.logs"),
    "adapters": ("bot.services", "bot.edges"),
    "services": ("bot.adapters", "bot.edges"),
}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_point_inward(layer: str) -> None:
    files = sorted((BOT / layer).glob("*.py"))
    assert files
    offenders = {
        f"{path.name} imports {name}"
        for path in files
        for name in _imports(path)
        if name.startswith(FORBIDDEN[layer])
    }
    assert not offenders, sorted(offenders)


def test_the_check_can_fail(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from bot.adapters.db import Database\n")
    assert "bot.adapters.db" in _imports(bad)
