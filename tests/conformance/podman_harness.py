"""The docker kind pointed at Podman's Docker-compatible service: the podman command
against the test session's own Podman (``tests.support.podman``).

What Podman lacks is declared here, not skipped:

- a Swarm: Podman is a single engine and nothing more, so this harness is the engine
  mode's alone (``modes``), and the kit's Swarm harness has no Podman twin;
  ``tests/docker/test_podman.py`` checks that the engine says so and Asgard works it as
  an engine alone;
- engine labels: an operator cannot label a Podman, so its agent's attributes (the
  owner the kit sets) come from the cluster's entry (``agent_attributes``), the way an
  operator of a Podman gives them: ``set_owner`` writes the entry and starts the
  cluster again.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import ClassVar

import pytest

from asgard.backends.cluster import Cluster
from asgard.backends.docker.client import ENGINE_ALONE
from asgard.backends.docker.config import DockerClusterConfig
from asgard.backends.docker.plugin import CAPABILITIES
from asgard.backends.orchestrator import Orchestrator
from asgard.testing import Harness
from tests.conftest import build
from tests.support.podman import PODMAN_IMAGE, PodmanService
from tests.support.resources import needs


@needs("podman")
class PodmanHarness(Harness):
    name = "podman"
    kind = "docker"
    agent_type = "DOCKER"
    capabilities = CAPABILITIES
    image = PODMAN_IMAGE
    modes: ClassVar[tuple[str, ...]] = (ENGINE_ALONE,)
    """The modes of the docker kind Podman has: no Swarm."""

    def __init__(self, podman: PodmanService, orchestrator: Orchestrator) -> None:
        self.podman = podman
        self.orchestrator = orchestrator
        self.cluster = orchestrator.cluster_names()[0]

    @staticmethod
    async def start(podman: PodmanService, **attributes: str) -> Orchestrator:
        config = DockerClusterConfig(
            name="podman", url=podman.url, timeout_s=10.0, agent_attributes=attributes
        )
        return Orchestrator([await build(config)])

    @classmethod
    @contextlib.asynccontextmanager
    async def running(cls, request: pytest.FixtureRequest) -> AsyncIterator[Harness]:
        podman: PodmanService = request.getfixturevalue("podman")
        harness = cls(podman, await cls.start(podman))
        try:
            yield harness
        finally:
            await harness.orchestrator.close()

    @contextlib.asynccontextmanager
    async def misbehaving(self, url: str) -> AsyncIterator[Cluster]:
        cluster = await build(DockerClusterConfig(name="podman-wrong", url=url, timeout_s=2))
        try:
            yield cluster
        finally:
            await cluster.close()

    async def seed_app(
        self, namespace: str, app_id: str, *, instances: int, cpus: float = 0.0, mem: float = 0.0
    ) -> None:
        limits = [
            *(["--cpus", str(cpus)] if cpus else []),
            *(["--memory", f"{int(mem)}m"] if mem else []),
        ]
        for _ in range(instances):
            self.podman.cli(
                "run",
                "-d",
                "--label",
                f"asgard.namespace={namespace}",
                "--label",
                f"asgard.app={app_id}",
                *limits,
                PODMAN_IMAGE,
                "sleep",
                "3600",
            )

    async def set_owner(self, owner: str | None) -> str:
        await self.orchestrator.close()
        self.orchestrator = await self.start(self.podman, **({"owner": owner} if owner else {}))
        return self.podman.cli("info", "--format", "{{.Host.Hostname}}").strip()

    async def settle_job(
        self, namespace: str, job_id: str, *, exit_code: int, output: dict[str, bytes]
    ) -> None:
        return None  # the job's own command does it

    async def leftovers(self, namespace: str, app_id: str) -> list[str]:
        labels = [
            "--filter",
            f"label=asgard.namespace={namespace}",
            "--filter",
            f"label=asgard.app={app_id}",
        ]
        found = [f"container {c}" for c in self.podman.cli("ps", "-aq", *labels).split()]
        found += [
            f"volume {v}"
            for v in self.podman.cli("volume", "ls", "-q", "--filter", "dangling=true").split()
        ]
        return found
