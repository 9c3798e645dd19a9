"""A backend that cannot start while its cluster is down (a Docker jobs backend must ask
the engine which jobs to watch again) is started once the probe finds the cluster
answering: Asgard's start never fails for a cluster, and never leaves it half started."""

from __future__ import annotations

import asyncio

import pytest

from asgard.backends.contract import AgentsBackend, JobsBackend
from asgard.backends.orchestrator import Orchestrator
from asgard.errors import AllClustersFailed, ClusterUnreachable
from asgard.models import Account
from tests.support.static_backend import StaticClusterConfig, static_cluster

ALL = Account(id=1, name="all", namespace="dev")


class StartsWhenUp(JobsBackend):
    def __init__(self, config: StaticClusterConfig) -> None:
        super().__init__(config.name, "static")
        self.config = config
        self.tries = 0
        self.started = False

    async def start(self) -> None:
        self.tries += 1
        if self.config.down:
            raise ClusterUnreachable(self.cluster, "the engine does not answer")
        self.started = True


async def test_a_backend_that_failed_to_start_is_started_when_the_cluster_answers() -> None:
    cluster = await static_cluster("lab", [{"id": "a1"}], down=True, probe_s=0.05)
    config = cluster.config
    assert isinstance(config, StaticClusterConfig)
    config.retry_down_s = 0.05
    jobs = StartsWhenUp(config)
    cluster.parts["jobs"] = jobs
    try:
        await cluster.start()  # does not raise
        assert (jobs.tries, jobs.started) == (1, False)
        status = cluster.known_status()
        assert status.status != "ok"
        assert "could not be started: the engine does not answer" in (status.error or "")

        await asyncio.sleep(0.3)
        assert not jobs.started, "not while the cluster is still down"
        config.down = False
        for _ in range(100):
            if jobs.started:
                break
            await asyncio.sleep(0.05)
        assert jobs.started
        tries = jobs.tries
        await asyncio.sleep(0.3)
        assert jobs.tries == tries, "started once, not again at each probe"
        assert cluster.known_status().status == "ok"
    finally:
        await cluster.close()


async def test_a_cluster_that_stops_answering_is_probed_at_the_short_interval_at_once() -> None:
    """The probe's wait begun while the cluster answered (``probe_s``, an hour here) is cut
    short when a read finds it down: its return is seen within ``retry_down_s``, though
    nobody reads it meanwhile."""
    cluster = await static_cluster("lab", [{"id": "a1"}], probe_s=3600)
    config = cluster.config
    assert isinstance(config, StaticClusterConfig)
    config.retry_down_s = 0.05
    await cluster.start()
    try:
        config.down = True
        with pytest.raises(AllClustersFailed):
            await Orchestrator([cluster]).fan_out(ALL, None, AgentsBackend.list_agents)
        assert cluster.known_status().status == "unreachable"
        config.down = False
        for _ in range(100):
            if cluster.known_status().status == "ok":
                break
            await asyncio.sleep(0.05)
        assert cluster.known_status().status == "ok", "seen back by the probe, unasked"
    finally:
        await cluster.close()
