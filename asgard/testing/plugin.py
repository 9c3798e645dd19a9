"""The kit's pytest plugin, loaded through the ``pytest11`` entry point wherever Asgard is
installed. It does nothing until a test takes the ``harness`` fixture.

A test marked ``can("flag")`` exists only for harnesses whose cluster has that
capability (``asgard.models.Capabilities``), and one marked ``cannot("flag")`` only for
the others; one marked ``hook("name")`` only for harnesses that give that optional
method of ``Harness``. The test is not generated rather than skipped, so a skip in the kit always
means something went missing.
"""

from __future__ import annotations

import pytest

from asgard.models import Capabilities
from asgard.testing.harness import Harness


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "can(flag): a kit test only for harnesses whose cluster has the capability"
    )
    config.addinivalue_line(
        "markers", "cannot(flag): a kit test only for harnesses whose cluster lacks it"
    )
    config.addinivalue_line(
        "markers", "hook(name): a kit test only for harnesses that give that optional method"
    )


def wanted(item: pytest.Item, harness: type[Harness]) -> bool:
    capabilities = harness.capabilities
    for mark in item.iter_markers("can"):
        if not _has(capabilities, mark.args[0]):
            return False
    for mark in item.iter_markers("hook"):
        if getattr(harness, mark.args[0]) is getattr(Harness, mark.args[0]):
            return False  # an optional hook the harness does not give
    return not any(_has(capabilities, mark.args[0]) for mark in item.iter_markers("cannot"))


def _has(capabilities: Capabilities, flag: str) -> bool:
    if flag not in Capabilities.model_fields:
        raise pytest.UsageError(f"unknown capability {flag!r} in a can/cannot mark")
    return bool(getattr(capabilities, flag))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        callspec = getattr(item, "callspec", None)
        harness = callspec.params.get("harness") if callspec else None
        if isinstance(harness, type) and issubclass(harness, Harness) and not wanted(item, harness):
            dropped.append(item)
        else:
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
