"""The suite runs once per harness: every backend must behave the same way."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.conformance.docker_harness import DockerEngineHarness, DockerSwarmHarness
from tests.conformance.harness import Harness
from tests.conformance.kubernetes_harness import KubernetesHarness
from tests.conftest import docker_cluster, running_kube

HARNESSES = ["docker-engine", "docker-swarm", "kubernetes"]


@pytest.fixture(params=HARNESSES)
async def harness(request: pytest.FixtureRequest) -> AsyncIterator[Harness]:
    match request.param:
        case "docker-engine":
            daemon = request.getfixturevalue("engine")
            engine = DockerEngineHarness(daemon, await docker_cluster("engine", daemon))
            yield engine
            await engine.close()
        case "docker-swarm":
            daemon = request.getfixturevalue("swarm")
            swarm = DockerSwarmHarness(daemon, await docker_cluster("swarm", daemon))
            yield swarm
            await swarm.close()
        case "kubernetes":
            async with running_kube() as kube:
                yield KubernetesHarness(
                    kube.emulator, kube.controllers, kube.orchestrator, kube.tokens
                )
        case other:
            raise ValueError(other)
