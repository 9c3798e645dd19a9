"""The kit's pytest plugin, loaded through the ``pytest11`` entry point wherever Asgard is
installed. It does nothing until a test takes the ``harness`` fixture.

A test marked ``can("flag", ...)`` exists only for harnesses whose cluster has those
capabilities (``asgard.models.Capabilities``), and one marked ``cannot("flag", ...)`` only
for those whose cluster lacks it (one of them, at least); one marked ``hook("name")``
only for harnesses that give that optional method of ``Harness``. A check that names the
operations it exercises (``asgard.testing.coverage.exercises``) is marked ``can`` with
what they need. The test is not generated rather than skipped, so a skip in the kit
always means something went missing.
"""

from __future__ import annotations

import pytest

from asgard.models import Capabilities
from asgard.testing.harness import Harness


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "can(*flags): a kit test only for harnesses whose cluster has the capabilities"
    )
    config.addinivalue_line(
        "markers",
        "cannot(*flags): a kit test only for harnesses whose cluster lacks one of the flags",
    )
    config.addinivalue_line(
        "markers", "hook(name): a kit test only for harnesses that give that optional method"
    )


def wanted(item: pytest.Item, harness: type[Harness]) -> bool:
    capabilities = harness.capabilities
    for mark in item.iter_markers("can"):
        if not all(_has(capabilities, flag) for flag in mark.args):
            return False
    for mark in item.iter_markers("hook"):
        if getattr(harness, mark.args[0]) is getattr(Harness, mark.args[0]):
            return False  # an optional hook the harness does not give
    return all(
        not all(_has(capabilities, flag) for flag in mark.args)
        for mark in item.iter_markers("cannot")
    )


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
