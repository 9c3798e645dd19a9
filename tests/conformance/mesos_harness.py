"""The Mesos harness: fake masters, agents, Marathon and Chronos; the test plays their runs."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence

import pytest

from asgard.backends.cluster import Cluster
from asgard.backends.mesos.config import MesosClusterConfig
from asgard.backends.mesos.job_converters import one_time_name
from asgard.backends.mesos.plugin import CAPABILITIES
from asgard.models import Account
from asgard.testing import Harness
from asgard.testing.harness import Printed
from tests.conftest import MesosCluster, build, running_mesos
from tests.support.dockerd import TEST_IMAGE


class MesosHarness(Harness):
    name = "mesos"
    kind = "mesos"
    agent_type = "MESOS"
    capabilities = CAPABILITIES
    schedule = "R/2030-01-01T03:00:00Z/PT24H"  # Chronos takes ISO 8601 intervals
    image = TEST_IMAGE

    def __init__(self, cluster: MesosCluster) -> None:
        self.mesos = cluster.mesos
        self.marathon = cluster.marathon
        self.chronos = cluster.chronos
        self.orchestrator = cluster.orchestrator
        self.cluster = cluster.cluster.name

    @classmethod
    @contextlib.asynccontextmanager
    async def running(cls, request: pytest.FixtureRequest) -> AsyncIterator[Harness]:
        async with running_mesos(recorded_containers=False) as mesos:
            yield cls(mesos)

    @contextlib.asynccontextmanager
    async def misbehaving(self, url: str) -> AsyncIterator[Cluster]:
        config = MesosClusterConfig(
            name="mesos-wrong", mesos_urls=[url], marathon_urls=[url], chronos_url=url, timeout_s=2
        )
        cluster = await build(config)
        try:
            yield cluster
        finally:
            await cluster.close()

    async def seed_app(
        self, namespace: str, app_id: str, *, instances: int, cpus: float = 0.0, mem: float = 0.0
    ) -> None:
        self.marathon.add(
            {
                "id": f"/{namespace}/{app_id}",
                "instances": instances,
                "cpus": cpus or 0.1,
                "mem": mem or 32,
                "container": {
                    "type": "DOCKER",
                    "docker": {"image": TEST_IMAGE, "network": "BRIDGE"},
                },
            }
        )
        first = self.mesos.agents[sorted(self.mesos.agents)[0]].info
        used = first["used_resources"]
        used["cpus"] = round(used["cpus"] + instances * cpus, 3)
        used["mem"] = round(used["mem"] + instances * mem, 3)

    async def set_owner(self, owner: str | None) -> str:
        agent_id = sorted(self.mesos.agents)[0]
        attributes = self.mesos.agents[agent_id].info["attributes"]
        if owner is None:
            attributes.pop("owner", None)
        else:
            attributes["owner"] = owner
        return agent_id

    async def settle_job(
        self, namespace: str, job_id: str, *, exit_code: int, output: dict[str, bytes]
    ) -> None:
        name = one_time_name(Account(id=0, name=namespace, namespace=namespace), job_id)
        job = self.chronos.jobs.get(name)
        if (
            job is not None
            and not job.get("successCount")
            and int(job.get("errorCount") or 0) <= int(job.get("retries") or 0)
        ):
            self.chronos.finish(name, success=exit_code == 0)

    async def task_prints(
        self, namespace: str, app_id: str, task_id: str, lines: Sequence[Printed]
    ) -> None:
        """A Marathon task's executor writes its sandbox's ``stdout`` and ``stderr``."""
        for agent in self.mesos.agents.values():
            directory = agent.directories.get(task_id)
            if directory is not None:
                for stream, text in lines:
                    path = f"{directory}/{stream}"
                    agent.files[path] = agent.files.get(path, "") + f"{text}\n"

    async def unsayable(self, namespace: str, app_id: str) -> None:
        """A constraint Asgard cannot say, added on Marathon, as its UI would."""
        app = self.marathon.apps[f"/{namespace}/{app_id}"]
        app["constraints"] = [*app["constraints"], ["hostname", "GROUP_BY", "3"]]
        self.marathon._stamp(app)

    async def leftovers(self, namespace: str, app_id: str) -> list[str]:
        marathon_id = f"/{namespace}/{app_id}"
        executor = marathon_id.strip("/").replace("/", "_") + "."
        found = [f"app {a}" for a in self.marathon.apps if a == marathon_id]
        found += [
            f"executor {c['executor_id']}"
            for agent in self.mesos.agents.values()
            for c in agent.containers
            if str(c.get("executor_id", "")).startswith(executor)
        ]
        return found
