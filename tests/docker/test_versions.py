"""Versions on Docker: a single engine keeps no history and refuses a rollback while
another change of the app rolls its containers; a Swarm keeps one spec before the
current one, and Asgard's record the older ones."""

from __future__ import annotations

import asyncio

import pytest

from asgard.backends.contract import AppsBackend
from asgard.backends.docker.engine.apps import EngineApps
from asgard.backends.modes import AppsByMode
from asgard.backends.orchestrator import Orchestrator
from asgard.db.engine import Database, upgrade
from asgard.errors import Conflict
from asgard.models import Account, AppPatch, AppSpec
from asgard.models.version import spec_hash
from asgard.services.apps import AppsService
from asgard.testing import SERVE_FOREVER
from asgard.testing.versions import ANA, BEN
from tests.conftest import docker_cluster
from tests.support.dockerd import TEST_IMAGE, DockerDaemon

DEV = Account(id=1, name="dev", namespace="dev")


async def test_a_rollback_while_a_change_rolls_is_a_conflict(engine: DockerDaemon) -> None:
    cluster = await docker_cluster("docker", engine)
    fleet = Orchestrator([cluster])
    apps = cluster.parts["apps"]
    assert isinstance(apps, AppsByMode)
    engine = await apps.current()
    assert isinstance(engine, EngineApps)
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
        while not engine.locks.busy("dev", "roll"):
            await asyncio.sleep(0.005)
        with pytest.raises(Conflict, match="is being deployed"):
            await fleet.call(DEV, "docker", AppsBackend.rollback_app, "roll", running)
        assert (await change).env == {"MODE": "b"}
        back = await fleet.call(DEV, "docker", AppsBackend.rollback_app, "roll", running)
        assert back.env == {"MODE": "a"}
    finally:
        await fleet.call(DEV, "docker", AppsBackend.delete_app, "roll")
        await fleet.close()


async def test_a_swarm_keeps_one_spec_before_and_asgard_the_older(
    swarm: DockerDaemon, sqlite_url: str
) -> None:
    """A service knows its spec and the one before (``PreviousSpec``); older ones are what
    Asgard recorded deploying, and a rollback to one of those writes it whole."""
    await upgrade(sqlite_url)
    db = Database(sqlite_url)
    fleet = Orchestrator([await docker_cluster("swarm", swarm)])
    apps = AppsService(fleet, db)
    spec = AppSpec(
        cluster="swarm", id="keep", image=TEST_IMAGE, args=SERVE_FOREVER, env={"MODE": "a"}
    )
    try:
        await apps.create(ANA, spec)
        await apps.update(BEN, "swarm", "keep", AppPatch(env={"MODE": "b"}))
        await apps.update(ANA, "swarm", "keep", AppPatch(env={"MODE": "c"}))

        kept = await fleet.call(DEV, "swarm", AppsBackend.app_versions, "keep")
        assert [v.spec.env for v in kept] == [{"MODE": "c"}, {"MODE": "b"}], "all a Swarm keeps"
        found = await apps.versions(ANA, "swarm", "keep")
        assert [(v.spec.env, v.by) for v in found] == [
            ({"MODE": "c"}, "ana@example.com"),
            ({"MODE": "b"}, "ben@example.com"),
            ({"MODE": "a"}, "ana@example.com"),
        ]
        assert found[2].id == spec_hash(found[2].spec), "Asgard names what only it remembers"

        back = await apps.rollback(BEN, "swarm", "keep", found[2].id)
        assert back.env == {"MODE": "a"}
        now = await apps.versions(ANA, "swarm", "keep")
        assert [(v.spec.env, v.by) for v in now] == [
            ({"MODE": "a"}, "ben@example.com"),
            ({"MODE": "c"}, "ana@example.com"),
            ({"MODE": "b"}, "ben@example.com"),
        ], "each spec once, at its latest deploy"
    finally:
        await apps.delete(ANA, "swarm", "keep")
        await fleet.close()
        await db.close()
