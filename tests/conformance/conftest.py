"""The suite runs once per harness: every backend must behave the same way."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.conformance.docker_harness import DockerEngineHarness, DockerSwarmHarness
from tests.conformance.harness import Harness
from tests.conformance.kubernetes_harness import KubernetesHarness
from tests.conformance.mesos_harness import MesosHarness
from tests.conftest import docker_cluster, running_kube, running_mesos

HARNESSES: dict[str, type[Harness]] = {
    "docker-engine": DockerEngineHarness,
    "docker-swarm": DockerSwarmHarness,
    "kubernetes": KubernetesHarness,
    "mesos": MesosHarness,
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test marked ``can("flag")`` exists only for harnesses whose kind can do it, and one
    marked ``cannot("flag")`` only for the others: the test is not generated rather than
    skipped, so a skip in this suite always means something went missing."""
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        callspec = getattr(item, "callspec", None)
        name = callspec.params.get("harness") if callspec else None
        if name is None:
            kept.append(item)
            continue
        harness = HARNESSES[name]
        wanted = all(getattr(harness, m.args[0]) for m in item.iter_markers("can")) and not any(
            getattr(harness, m.args[0]) for m in item.iter_markers("cannot")
        )
        (kept if wanted else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(params=list(HARNESSES))
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
        case "mesos":
            async with running_mesos(recorded_containers=False) as mesos:
                yield MesosHarness(mesos.mesos, mesos.marathon, mesos.chronos, mesos.orchestrator)
        case other:
            raise ValueError(other)
