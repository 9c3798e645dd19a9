"""Every check of the kit, for a test module to import::

    from asgard.testing.kit import *  # noqa: F403

pytest collects the imported tests as the module's own; each takes the ``harness``
fixture (``asgard.testing.harness_fixture``). The checks live in one module per part of
the contract; each names the operations it exercises (``asgard.testing.coverage``)."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any, Final

from asgard.testing import (
    agents,
    answers,
    apps,
    capabilities,
    isolation,
    jobs,
    scheduled_jobs,
    stats,
    tasks,
    versions,
)

MODULES: Final[tuple[ModuleType, ...]] = (
    capabilities,
    agents,
    apps,
    tasks,
    stats,
    jobs,
    scheduled_jobs,
    versions,
    isolation,
    answers,
)
"""One per part of the contract: what a cluster can do, agents, apps, tasks and logs,
stats, jobs, scheduled jobs, versions; then tenants kept apart, and wrong answers."""


def _checks() -> dict[str, Callable[..., Any]]:
    found: dict[str, Callable[..., Any]] = {}
    for module in MODULES:
        for name in module.__all__:
            if name.startswith("test_"):
                assert name not in found, f"two checks named {name}"
                found[name] = getattr(module, name)
    return found


CHECKS: Final = _checks()
"""Every check, by name."""
globals().update(CHECKS)
__all__ = sorted(CHECKS)
