"""The import arrows (README "Architecture"): api/web → market → qr; in market, money → registry →
plumbing (db, clock, errors, text, settings, types, pagination, jobs), never back; qr imports
neither market nor api nor a database; simulator imports neither api nor market; planner (the
workbench's services) sits over market and simulator, under api and web; and no module
of ours is part of an import circle, counting imports made inside functions."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("api", "market", "planner", "qr", "simulator", "web")

FORBIDDEN = {
    "market": {"api", "web", "fastapi", "starlette", "uvicorn", "simulator"},
    "market.registry": {"market.money"},
    "market.plumbing": {"market.money", "market.registry"},
    "qr": {"api", "web", "market", "simulator", "fastapi", "sqlmodel", "sqlalchemy", "alembic"},
    "simulator": {"api", "web", "market"},
    "planner": {"api", "web", "fastapi", "starlette"},  # the workbench's services, under both
    "web": {"api", "simulator"},  # pages are a sibling of api/ over market/ and qr/
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {
        _module_name(f): f
        for package in PACKAGES
        for f in sorted((ROOT / package).rglob("*.py"))
        if "versions" not in f.parts
    }


def _imports(path: Path) -> set[str]:
    """Every module named by an import in the file, at any depth (functions included), as the
    dotted name written plus `package.name` for `from package import name`."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _group(module: str) -> str:
    """Which arrow rule a module of ours falls under."""
    if module.startswith(("market.registry", "market.money")):
        return ".".join(module.split(".")[:2])
    if module.startswith("market.migrations"):
        return "market"  # composes both wings to register every table
    if module.startswith("market."):
        return "market.plumbing"
    return module.split(".")[0]


def _violations(module: str, imported: set[str]) -> list[str]:
    rules: set[str] = set(FORBIDDEN.get(module.split(".")[0], set()))
    rules |= FORBIDDEN.get(_group(module), set())
    return sorted(
        name for name in imported if any(name == r or name.startswith(r + ".") for r in rules)
    )


@pytest.mark.parametrize("group", sorted(FORBIDDEN))
def test_modules_respect_the_arrows(group: str) -> None:
    members = {
        name: path
        for name, path in _modules().items()
        if _group(name) == group or (group in PACKAGES and name.split(".")[0] == group)
    }
    assert members, f"{group} has no modules"
    offenders = {name: _violations(name, _imports(path)) for name, path in members.items()}
    assert {name: bad for name, bad in offenders.items() if bad} == {}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {
        name: {imported for imported in _imports(path) if imported in modules} - {name}
        for name, path in modules.items()
    }


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
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
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_circles() -> None:
    # A package's __init__ importing its own submodules is not a circle of behaviour.
    graph = {
        name: {t for t in targets if not name or not t.startswith(name + ".")}
        for name, targets in _graph().items()
    }
    assert _cycles(graph) == []


def test_the_cycle_finder_sees_a_circle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_a_registry_module_importing_money_is_caught() -> None:
    assert _violations("market.registry.boards", {"market.money.ledger"}) == ["market.money.ledger"]
    assert _violations("market.clock", {"market.registry.models"}) == ["market.registry.models"]
    assert _violations("market.money.ledger", {"market.registry.models"}) == []
    assert _violations("web.pages.auth", {"api.deps"}) == ["api.deps"]


def test_no_missing_id_stands_in_as_zero() -> None:
    """A row's id is read with `market.db.require_id`, which raises when it is missing, never
    as `row.id or 0` (a silent 0 would point at no row, or the wrong one)."""
    pattern = re.compile(r"\.id or 0\b")
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in path.parts
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert found == []
