"""Imports run one way, and handlers hold services only: read from the source itself.

A layer that imports one above it (HTTP importing the dashboard, a service importing
HTTP), a handler reaching past the services for the database or the ``Orchestrator``,
or the tests and the benchmarks leaning on each other, fails here, naming the file and
the line.
"""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web

from asgard.http.app import build_app
from asgard.http.state import Services
from asgard.server import create_app
from asgard.settings import Settings
from asgard.ui.paths import is_ui_path

ROOT = Path(__file__).resolve().parents[2]

FORBIDDEN: dict[str, tuple[str, ...]] = {
    "asgard/ui": ("asgard.server",),
    "asgard/http": ("asgard.ui", "asgard.server"),
    "asgard/services": ("asgard.http", "asgard.ui", "asgard.server"),
    "asgard/backends": ("asgard.services", "asgard.http", "asgard.ui"),
    "asgard/db": ("asgard.services", "asgard.http", "asgard.ui"),
    "asgard/models": (
        "asgard.backends",
        "asgard.db",
        "asgard.services",
        "asgard.http",
        "asgard.ui",
    ),
    "tests": ("bench",),
    "bench": ("tests",),
    "testbed": ("tests", "bench"),
}
"""Per folder, the packages no module under it may import (at the top or in a function)."""

HANDLERS = ("asgard/http/routes", "asgard/ui")
WIRING_ONLY = frozenset({"db", "orchestrator"})


def modules(folder: str) -> Iterator[Path]:
    found = sorted((ROOT / folder).rglob("*.py"))
    assert found, f"no modules under {folder}"
    yield from found


def imported(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """Every module an ``import`` or ``from ... import`` names, with its line; ``from a
    import b`` names ``a.b`` too, since ``b`` may be a module."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module
            for alias in node.names:
                yield node.lineno, f"{node.module}.{alias.name}"


def within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


@pytest.mark.parametrize("folder", sorted(FORBIDDEN))
def test_no_module_imports_a_layer_it_must_not(folder: str) -> None:
    wrong = []
    for path in modules(folder):
        tree = ast.parse(path.read_text(), filename=str(path))
        for line, name in imported(tree):
            if any(within(name, banned) for banned in FORBIDDEN[folder]):
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    assert wrong == []


def test_handlers_never_reach_the_database_or_the_orchestrator() -> None:
    """Routes and dashboard pages call services; ``.db`` or ``.orchestrator`` on anything
    there is a handler going around them."""
    wrong = []
    for folder in HANDLERS:
        for path in modules(folder):
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                if isinstance(node, ast.Attribute) and node.attr in WIRING_ONLY:
                    wrong.append(f"{path.relative_to(ROOT)}:{node.lineno} uses .{node.attr}")
    assert wrong == []


def test_the_services_handlers_get_hold_neither() -> None:
    fields = {f.name for f in dataclasses.fields(Services)}
    assert not fields & WIRING_ONLY
    assert {"sessions", "health"} <= fields


def test_the_api_alone_has_no_dashboard_and_the_composition_root_mounts_it() -> None:
    def paths(app: web.Application) -> set[str]:
        return {r.canonical for r in app.router.resources()}

    api, served = paths(build_app(Settings())), paths(create_app(Settings()))
    assert not [p for p in api if is_ui_path(p)]
    assert {"/ui/login", "/ui/", "/"} <= served
    assert api < served


def test_the_checks_above_would_see_a_wrong_import_and_a_wrong_reach() -> None:
    """The checks read what they are meant to: a module as a handler would write it."""
    source = "from asgard.ui.session import ui_principal\nimport asgard.ui\nsvc.db.ping()\n"
    tree = ast.parse(source)
    names = [name for _, name in imported(tree)]
    assert [n for n in names if within(n, "asgard.ui")] == [
        "asgard.ui.session",
        "asgard.ui.session.ui_principal",
        "asgard.ui",
    ]
    reaches = [n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)]
    assert "db" in reaches
    assert not within("asgard.uikit", "asgard.ui")
