"""The suite runs once per harness: every backend must behave the same way."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.conformance.docker_harness import DockerEngineHarness, DockerSwarmHarness
from tests.conformance.harness import Harness
from tests.conftest import docker_cluster

HARNESSES = ["docker-engine", "docker-swarm"]


@pytest.fixture(params=HARNESSES)
async def harness(request: pytest.FixtureRequest) -> AsyncIterator[Harness]:
    found: Harness
    match request.param:
        case "docker-engine":
            daemon = request.getfixturevalue("engine")
            found = DockerEngineHarness(daemon, await docker_cluster("engine", daemon))
        case "docker-swarm":
            daemon = request.getfixturevalue("swarm")
            found = DockerSwarmHarness(daemon, await docker_cluster("swarm", daemon))
        case other:
            raise ValueError(other)
    yield found
    await found.close()
