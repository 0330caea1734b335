"""Imports point inward only (DESIGN.md), and no module imports itself back: checked on the source.

core < adapters < services < edges; the sandbox (`bot/sandbox/`) may use any of them, and none of them,
nor `bot/settings.py` or `bot/logs.py`, may import the sandbox: `newsbot sandbox` reaches the CLI through
the `newsbot.commands` entry point instead (pyproject.toml).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.kits import ROOT

BOT = ROOT / "bot"
SANDBOX = "bot.sandbox"
# what each layer must never import
FORBIDDEN = {
    "core": ("bot.adapters", "bot.services", "bot.edges", "bot.settings", "bot.logs", SANDBOX),
    "adapters": ("bot.services", "bot.edges", SANDBOX),
    "services": ("bot.adapters", "bot.edges", SANDBOX),
    "edges": (SANDBOX,),
}


def _module_name(path: Path) -> str:
    parts = (path.relative_to(ROOT) if path.is_relative_to(ROOT) else Path(path.name)).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(path: Path, *, runtime_only: bool = False) -> set[str]:
    """Every module `path` imports, at its top or inside functions; `from a import b` names `a.b` when
    that is a module of ours. With `runtime_only`, imports under `if TYPE_CHECKING:` are left out."""
    tree = ast.parse(path.read_text(), str(path))
    skipped: set[int] = set()
    if runtime_only:
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and _is_type_checking(node):
                skipped.update(id(child) for stmt in node.body for child in ast.walk(stmt))
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path).rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names if _is_module(f"{base}.{alias.name}"))
    return names


def _is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _sources(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.py"))


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_point_inward(layer: str) -> None:
    files = _sources(BOT / layer)
    assert files
    offenders = {
        f"{path.relative_to(BOT)} imports {name}"
        for path in files
        for name in _imports(path)
        if name.startswith(FORBIDDEN[layer])
    }
    assert not offenders, sorted(offenders)


def test_the_product_never_imports_the_sandbox() -> None:
    product = [p for p in _sources(BOT) if not p.is_relative_to(BOT / "sandbox")]
    assert BOT / "settings.py" in product
    offenders = sorted(
        f"{p.relative_to(BOT)}" for p in product if any(n.startswith(SANDBOX) for n in _imports(p))
    )
    assert not offenders


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each import cycle once, as the path around it (Tarjan's strongly connected components)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph.get(node, ()):
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _graph(files: list[Path]) -> dict[str, set[str]]:
    ours = {_module_name(p) for p in files}
    return {_module_name(p): (_imports(p, runtime_only=True) & ours) - {_module_name(p)} for p in files}


def test_no_import_cycles() -> None:
    """A module that imports a module that imports it back (even inside a function) cannot be read, tested
    or moved alone; type-only imports (`if TYPE_CHECKING:`) are not cycles at run time."""
    graph = _graph(_sources(BOT))
    assert "bot.edges.cli_feeds" in graph["bot.edges.cli"]
    assert _cycles(graph) == []


def test_the_checks_can_fail(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from bot.adapters.db import Database\nfrom bot.sandbox import botapi\n")
    assert {"bot.adapters.db", "bot.sandbox", "bot.sandbox.botapi"} <= _imports(bad)
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []
