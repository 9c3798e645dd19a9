"""The local kind under Asgard's conformance kit, and the checks every test of it ends
with: no process it started is left on the host."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from asgard_local.isolation import Isolation, probe
from asgard_local.plugin import capabilities_for
from local_support import Running, processes_under, running_cluster

from asgard.models import Account, AppSpec, ResourceLimits
from asgard.testing import Harness, harness_fixture

SEED_TIMEOUT_S = 30.0
LEFT_TIMEOUT_S = 10.0


class LocalHarness(Harness):
    name = "local"
    kind = "local"
    agent_type = "LOCAL"
    capabilities = capabilities_for(asyncio.run(probe(None, [])))
    """What this host allows: the cluster probes the same way when it is built."""
    image = "host"
    settings: ClassVar[dict[str, Any]] = {}

    def __init__(self, running: Running) -> None:
        self.running_cluster = running
        self.orchestrator = running.orchestrator
        self.cluster = running.cluster.name
        self.host = running.host

    @classmethod
    @contextlib.asynccontextmanager
    async def running(cls, request: pytest.FixtureRequest) -> AsyncIterator[Harness]:
        base: Path = request.getfixturevalue("tmp_path")
        async with running_cluster(base, **cls.settings) as running:
            yield cls(running)

    async def seed_app(
        self, namespace: str, app_id: str, *, instances: int, cpus: float = 0.0, mem: float = 0.0
    ) -> None:
        """Straight to the supervisor, as an operator's script on the host would."""
        account = Account(id=0, name=namespace, namespace=namespace)
        spec = AppSpec(
            cluster=self.cluster,
            id=app_id,
            image=self.image,
            cmd=["sleep", "3600"],
            resources=ResourceLimits(cpus=cpus or None, mem=mem or None),
            instances=instances,
        )
        app = await self.host.apps.create(account, spec)
        deadline = time.monotonic() + SEED_TIMEOUT_S
        while sum(1 for v in app.views() if v.state == "running") < instances:
            assert time.monotonic() < deadline, f"{app_id} did not reach {instances} instances"
            await asyncio.sleep(0.05)

    async def set_owner(self, owner: str | None) -> str:
        self.host.store.attributes_file.write_text(json.dumps({"owner": owner}))
        return self.host.client.facts().hostname

    async def settle_job(
        self, namespace: str, job_id: str, *, exit_code: int, output: dict[str, bytes]
    ) -> None:
        return None  # the job's own command does it

    async def leftovers(self, namespace: str, app_id: str) -> list[str]:
        folder = self.host.store.app_dir(namespace, app_id)
        found = [f"process {p}" for p in processes_under(folder)]
        if folder.exists():
            found.append(f"folder {folder}")
        if (namespace, app_id) in self.host.apps.apps:
            found.append(f"app {namespace}/{app_id}")
        return found


class PlainLocalHarness(LocalHarness):
    """Jobs as plain processes (``isolate_jobs = false``): what a host without namespaces
    gives, and the kit's checks of a kind that takes no job files."""

    name = "local-plain"
    capabilities = capabilities_for(Isolation(False))
    settings: ClassVar[dict[str, Any]] = {"isolate_jobs": False}


harness = harness_fixture(LocalHarness, PlainLocalHarness)


@pytest.fixture(autouse=True)
def nothing_left_running(tmp_path: Path) -> Iterator[None]:
    """Every test ends with no process of its state folder on the host."""
    yield
    deadline = time.monotonic() + LEFT_TIMEOUT_S
    while (left := processes_under(tmp_path)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert left == [], f"processes left running: {left}"
