"""A backend that cannot start while its cluster is down (a Docker jobs backend must ask
the engine which jobs to watch again) is started once the probe finds the cluster
answering: Asgard's start never fails for a cluster, and never leaves it half started."""

from __future__ import annotations

import asyncio

from asgard.backends.contract import JobsBackend
from asgard.errors import ClusterUnreachable
from tests.support.static_backend import StaticClusterConfig, static_cluster


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
