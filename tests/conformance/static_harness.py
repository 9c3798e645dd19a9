"""The ``static`` kind as a harness: a kind that can do little, and says so.

Its agents come from its entry; it runs no apps and no jobs and declares as much
(``lacks = ["apps"]``, and no jobs backend). The kit then checks its agents, and that
every operation of apps, jobs and scheduled jobs is refused with 501 without the kind
being asked: a third-party kind that starts small passes the kit by declaring what it
lacks."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import pytest

from asgard.backends.orchestrator import Orchestrator
from asgard.models import Capabilities
from asgard.testing import Harness
from tests.support.static_backend import StaticClusterConfig, static_cluster

AGENTS = [
    {"id": "s1", "hostname": "rack-1", "resources": {"cpus": 8, "mem": 16384}},
    {"id": "s2", "hostname": "rack-2", "resources": {"cpus": 4, "mem": 8192}},
]


class StaticHarness(Harness):
    name = "static"
    kind = "static"
    agent_type = "STATIC"
    capabilities = Capabilities(apps=False, jobs=False).implied()
    image = "none"

    def __init__(self, orchestrator: Orchestrator) -> None:
        self.orchestrator = orchestrator
        self.cluster = orchestrator.cluster_names()[0]
        config = orchestrator.clusters[self.cluster].config
        assert isinstance(config, StaticClusterConfig)
        self.config = config

    @classmethod
    @contextlib.asynccontextmanager
    async def running(cls, request: pytest.FixtureRequest) -> AsyncIterator[Harness]:
        agents = [dict(a, attributes={}) for a in AGENTS]
        orchestrator = Orchestrator([await static_cluster("lab", agents, lacks=("apps",))])
        try:
            yield cls(orchestrator)
        finally:
            await orchestrator.close()

    async def seed_app(
        self, namespace: str, app_id: str, *, instances: int, cpus: float = 0.0, mem: float = 0.0
    ) -> None:
        raise AssertionError("a static cluster runs no apps: no check that seeds one is for it")

    async def set_owner(self, owner: str | None) -> str:
        """Its entry's first agent gets the attribute, as an operator editing it would."""
        attributes = self.config.agents[0]["attributes"]
        if owner is None:
            attributes.pop("owner", None)
        else:
            attributes["owner"] = owner
        return str(self.config.agents[0]["id"])

    async def settle_job(
        self, namespace: str, job_id: str, *, exit_code: int, output: dict[str, bytes]
    ) -> None:
        raise AssertionError("a static cluster runs no jobs")

    async def leftovers(self, namespace: str, app_id: str) -> list[str]:
        return []
