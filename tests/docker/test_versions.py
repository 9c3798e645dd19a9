"""Rolling back on a single engine, which keeps no history: while another change of the
app rolls its containers, a rollback is refused rather than queued behind it."""

from __future__ import annotations

import asyncio

import pytest

from asgard.backends.contract import AppsBackend
from asgard.backends.docker.apps import DockerAppsBackend
from asgard.backends.docker.engine_deploy import EngineDeployer
from asgard.backends.orchestrator import Orchestrator
from asgard.errors import Conflict
from asgard.models import Account, AppPatch, AppSpec
from asgard.testing import SERVE_FOREVER
from tests.conftest import docker_cluster
from tests.support.dockerd import TEST_IMAGE, DockerDaemon

DEV = Account(id=1, name="dev", namespace="dev")


async def test_a_rollback_while_a_change_rolls_is_a_conflict(engine: DockerDaemon) -> None:
    cluster = await docker_cluster("docker", engine)
    fleet = Orchestrator([cluster])
    apps = cluster.parts["apps"]
    assert isinstance(apps, DockerAppsBackend)
    deployer = apps.variants.engine.deployer
    assert isinstance(deployer, EngineDeployer)
    spec = AppSpec(
        cluster="docker", id="roll", image=TEST_IMAGE, args=SERVE_FOREVER, env={"MODE": "a"}
    )
    try:
        await fleet.call(DEV, "docker", AppsBackend.create_app, spec)
        [running] = await fleet.call(DEV, "docker", AppsBackend.app_versions, "roll")
        assert running.spec.env == {"MODE": "a"}, "the engine keeps the spec that runs"
        change = asyncio.create_task(
            fleet.call(DEV, "docker", AppsBackend.update_app, "roll", AppPatch(env={"MODE": "b"}))
        )
        while not deployer._locks[("dev", "roll")].locked():
            await asyncio.sleep(0.005)
        with pytest.raises(Conflict, match="is being deployed"):
            await fleet.call(DEV, "docker", AppsBackend.rollback_app, "roll", running)
        assert (await change).env == {"MODE": "b"}
        back = await fleet.call(DEV, "docker", AppsBackend.rollback_app, "roll", running)
        assert back.env == {"MODE": "a"}
    finally:
        await fleet.call(DEV, "docker", AppsBackend.delete_app, "roll")
        await fleet.close()
