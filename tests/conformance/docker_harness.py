"""Docker harnesses: the docker CLI against the test session's own daemons."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import pytest

from asgard.backends.cluster import Cluster
from asgard.backends.docker.config import DockerClusterConfig
from asgard.backends.docker.plugin import CAPABILITIES
from asgard.backends.docker.specs import object_name
from asgard.backends.orchestrator import Orchestrator
from asgard.testing import Harness
from tests.conftest import build, docker_cluster
from tests.support.dockerd import TEST_IMAGE, DockerDaemon
from tests.support.resources import needs

SETTLE_TIMEOUT_S = 60


@needs("docker")
class DockerEngineHarness(Harness):
    name = "docker-engine"
    kind = "docker"
    agent_type = "DOCKER"
    capabilities = CAPABILITIES
    image = TEST_IMAGE
    daemon_fixture = "engine"

    def __init__(self, daemon: DockerDaemon, orchestrator: Orchestrator) -> None:
        self.daemon = daemon
        self.orchestrator = orchestrator
        self.cluster = orchestrator.cluster_names()[0]

    @classmethod
    @contextlib.asynccontextmanager
    async def running(cls, request: pytest.FixtureRequest) -> AsyncIterator[Harness]:
        daemon: DockerDaemon = request.getfixturevalue(cls.daemon_fixture)
        orchestrator = Orchestrator([await docker_cluster(cls.daemon_fixture, daemon)])
        try:
            yield cls(daemon, orchestrator)
        finally:
            await orchestrator.close()

    @contextlib.asynccontextmanager
    async def misbehaving(self, url: str) -> AsyncIterator[Cluster]:
        cluster = await build(DockerClusterConfig(name="docker-wrong", url=url, timeout_s=2))
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
            self.daemon.cli(
                "run",
                "-d",
                "--label",
                f"asgard.namespace={namespace}",
                "--label",
                f"asgard.app={app_id}",
                *limits,
                TEST_IMAGE,
                "sleep",
                "3600",
            )

    async def set_owner(self, owner: str | None) -> str:
        self.daemon.set_labels({"owner": owner} if owner else {})
        return self.daemon.cli("info", "--format", "{{.ID}}").strip()

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
        found = [f"container {c}" for c in self.daemon.cli("ps", "-aq", *labels).split()]
        found += [
            f"volume {v}"
            for v in self.daemon.cli("volume", "ls", "-q", "--filter", "dangling=true").split()
        ]
        if self.daemon.is_swarm():
            found += [
                f"service {s}" for s in self.daemon.cli("service", "ls", "-q", *labels).split()
            ]
        return found


@needs("swarm")
class DockerSwarmHarness(DockerEngineHarness):
    name = "docker-swarm"
    daemon_fixture = "swarm"

    async def seed_app(
        self, namespace: str, app_id: str, *, instances: int, cpus: float = 0.0, mem: float = 0.0
    ) -> None:
        limits = [
            *(["--reserve-cpu", str(cpus)] if cpus else []),
            *(["--reserve-memory", f"{int(mem)}m"] if mem else []),
        ]
        name = object_name(namespace, app_id)
        self.daemon.cli(
            "service",
            "create",
            "--detach",
            "--quiet",
            "--name",
            name,
            "--label",
            f"asgard.namespace={namespace}",
            "--label",
            f"asgard.app={app_id}",
            "--replicas",
            str(instances),
            *limits,
            TEST_IMAGE,
            "sleep",
            "3600",
        )
        deadline = time.monotonic() + SETTLE_TIMEOUT_S
        while time.monotonic() < deadline:
            states = self.daemon.cli(
                "service",
                "ps",
                name,
                "--filter",
                "desired-state=running",
                "--format",
                "{{.CurrentState}}",
            ).split("\n")
            if sum(s.startswith("Running") for s in states) == instances:
                return
            await asyncio.sleep(0.25)
        raise AssertionError(f"service {name} did not reach {instances} running tasks")

    async def set_owner(self, owner: str | None) -> str:
        node = self.daemon.cli("node", "ls", "-q").split()[0]
        if owner:
            self.daemon.cli("node", "update", "--label-add", f"owner={owner}", node)
        else:
            self.daemon.cli("node", "update", "--label-rm", "owner", node)
        return node
