"""What a test needs besides itself (a Docker Engine, the Swarm, PostgreSQL, Chromium,
promtool),
read from the fixtures it uses, so that no test has to be marked by hand.

A fixture that starts one of them says so with ``@needs(...)`` under ``@pytest.fixture``;
so can a parameter value (a harness class). A parameter value that names a fixture
counts as that fixture, because ``request.getfixturevalue(request.param)`` is how the
tests over engine and Swarm ask for their daemon. ``mark_items`` then marks each test
with what it needs (``make check`` leaves out ``docker``, ``postgres``, ``browser`` and
``promtool``, which it does not install)
and puts the tests of a fixture shared by a module or a package (``@shared``) into one
pytest-xdist group, so that it starts once: one ``asgard serve`` per CLI module, one
dashboard fleet for the UI package. (Each worker has its own Docker Engine and Swarm,
each in a network namespace of its own: ``tests.support.dockerd``.)

``SERVERS_OFF`` is set by ``make check``: a test that needs a server but was not marked
then fails at once, naming what it tried to start, instead of starting it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, Final, TypeVar

import pytest

__all__ = [
    "RESOURCES",
    "SERVERS_OFF",
    "mark_items",
    "needs",
    "refuse_if_servers_off",
    "shared",
]

T = TypeVar("T")

RESOURCES: Final = {
    "docker": "needs a Docker Engine the test session starts (dockerd, as root)",
    "swarm": "needs a Docker Swarm the test session starts (dockerd, as root)",
    "podman": "needs a Podman service the test session starts (podman, as root)",
    "postgres": "needs a PostgreSQL server the test session starts",
    "browser": "needs Chromium (Debian's /usr/bin/chromium)",
    "promtool": "needs promtool (from Debian's prometheus package; scripts/system-deps.sh)",
    "quiet": "measures wall-clock latency: run alone, after the parallel phase of make test",
}
IMPLIED: Final = {"swarm": "docker"}
NEEDS: Final = "_asgard_needs"
SHARED: Final = "_asgard_shared"
SERVERS_OFF: Final = "ASGARD_TEST_SERVERS_OFF"
"""Set (to anything) by ``make check``: dockerd, PostgreSQL and Chromium must not start."""


def needs(*resources: str) -> Callable[[T], T]:
    """Say that a fixture (or a harness class) starts or uses these resources."""
    unknown = set(resources) - set(RESOURCES)
    if unknown:
        raise ValueError(f"unknown resources {sorted(unknown)}: one of {sorted(RESOURCES)}")

    def mark(target: T) -> T:
        setattr(target, NEEDS, frozenset(resources))
        return target

    return mark


def shared(scope: str) -> Callable[[T], T]:
    """Say that a fixture of this scope (``module`` or ``package``) is worth one start per
    scope: the tests that use it run on one worker."""
    if scope not in ("module", "package"):
        raise ValueError(f"shared by a module or a package, not {scope!r}")

    def mark(target: T) -> T:
        setattr(target, SHARED, scope)
        return target

    return mark


def refuse_if_servers_off(what: str) -> None:
    """Called by what starts dockerd, PostgreSQL or Chromium."""
    if os.environ.get(SERVERS_OFF):
        raise RuntimeError(
            f"{SERVERS_OFF} is set (make check) but a test started {what}: the fixture that "
            "starts it lacks @needs(...), see tests/support/resources.py"
        )


def _fixture_defs(item: pytest.Item, name: str) -> list[Any]:
    info = getattr(item, "_fixtureinfo", None)
    known = info.name2fixturedefs.get(name) if info is not None else None
    if known:
        return list(known)
    found = item.session._fixturemanager.getfixturedefs(name, item)
    return list(found or ())


def _closure(item: pytest.Item) -> tuple[set[str], list[tuple[Any, pytest.Item]]]:
    """Every fixture the test uses, those named by its parameters included: what they
    need, and the shared fixtures among them."""
    wanted: list[str] = list(getattr(item, "fixturenames", ()))
    found: set[str] = set()
    callspec = getattr(item, "callspec", None)
    for value in callspec.params.values() if callspec is not None else ():
        if isinstance(value, str):
            wanted.append(value)
        found |= getattr(value, NEEDS, frozenset())
    seen: set[str] = set()
    sharing: list[tuple[Any, pytest.Item]] = []
    while wanted:
        name = wanted.pop()
        if name in seen:
            continue
        seen.add(name)
        for definition in _fixture_defs(item, name):
            found |= getattr(definition.func, NEEDS, frozenset())
            if getattr(definition.func, SHARED, None):
                sharing.append((definition, item))
            wanted.extend(definition.argnames)
    return found, sharing


def _group(item: pytest.Item, sharing: list[tuple[Any, pytest.Item]]) -> str:
    for definition, _ in sharing:
        scope = getattr(definition.func, SHARED)
        node = item.getparent(pytest.Module if scope == "module" else pytest.Package)
        if node is not None:
            return f"{scope}:{node.nodeid or node.name}"
    return ""


def mark_items(items: list[pytest.Item]) -> dict[str, str]:
    """Mark each test with what it needs, and group those that must share a worker; the
    group of each test that has one, by test id (``worker_groups`` hands them on)."""
    groups: dict[str, str] = {}
    for item in items:
        needed, sharing = _closure(item)
        needed |= {IMPLIED[r] for r in needed if r in IMPLIED}
        needed |= {m.name for m in item.iter_markers() if m.name in RESOURCES}
        for resource in sorted(needed):
            item.add_marker(getattr(pytest.mark, resource))
        group = _group(item, sharing)
        if group and item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(group))
        if group:
            groups[item.nodeid] = group
    return groups
