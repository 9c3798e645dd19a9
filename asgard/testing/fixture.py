"""The ``harness`` fixture the kit's tests take, made from the harnesses a package has."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import pytest_asyncio

from asgard.testing.harness import Harness

__all__ = ["harness_fixture"]


def harness_fixture(*harnesses: type[Harness]) -> Callable[..., Any]:
    """A fixture named ``harness``, once per harness class; assign it in a conftest::

        harness = harness_fixture(LocalHarness)

    Each kit test then runs once per harness, as ``test_x[local]``."""

    @pytest_asyncio.fixture(params=harnesses, ids=[h.name for h in harnesses])
    async def harness(request: pytest.FixtureRequest) -> AsyncIterator[Harness]:
        chosen: type[Harness] = request.param
        async with chosen.running(request) as running:
            yield running

    return harness
