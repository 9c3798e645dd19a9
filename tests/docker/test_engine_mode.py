"""What the engine is (alone, or a Swarm manager) is learnt once, kept current by the change
feed, and learnt again when the engine turns out to have left its Swarm; operations never
ask for it themselves."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest

from asgard.backends.contract import AgentsBackend, AppsBackend
from asgard.backends.docker.client import DockerClient, EngineMode
from asgard.backends.orchestrator import Orchestrator
from asgard.errors import AllClustersFailed
from asgard.events import EventHub
from asgard.models import Account
from tests.conftest import docker_cluster
from tests.support.dockerd import DockerDaemon

DEV = Account(id=1, name="dev", namespace="dev")


@dataclass
class Watched:
    fleet: Orchestrator
    client: DockerClient
    learnt: list[EngineMode]
    """Every time the client asked the engine what it is, what it found."""


async def watched(daemon: DockerDaemon, name: str, *, cached: bool) -> Watched:
    cluster = await docker_cluster(name, daemon)
    client = cluster.client
    assert isinstance(client, DockerClient)
    learnt: list[EngineMode] = []
    learn = client.learn_mode

    async def counted() -> EngineMode:
        mode = await learn()
        learnt.append(mode)
        return mode

    client.learn_mode = counted  # type: ignore[method-assign]
    fleet = Orchestrator([cluster])
    if cached:
        fleet.enable_caches(EventHub())
        await fleet.start()
    return Watched(fleet, client, learnt)


@pytest.fixture
async def engine_cluster(engine: DockerDaemon) -> AsyncIterator[Watched]:
    found = await watched(engine, "engine", cached=False)
    yield found
    await found.fleet.close()


async def eventually(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"never happened: {what}")


async def test_the_mode_is_learnt_once_not_per_operation(engine_cluster: Watched) -> None:
    fleet = engine_cluster.fleet
    for _ in range(3):
        await fleet.fan_out(DEV, None, AgentsBackend.list_agents)
        await fleet.fan_out(DEV, None, AppsBackend.list_apps)
    assert engine_cluster.learnt == [EngineMode(swarm=False, node_id="")]


async def test_a_node_event_makes_the_feed_learn_the_mode_again(swarm: DockerDaemon) -> None:
    found = await watched(swarm, "swarm", cached=True)
    try:
        await eventually(lambda: len(found.learnt) >= 1, "the feed learns the mode on connect")
        assert found.learnt[0].swarm
        assert found.learnt[0].node_id
        before = len(found.learnt)
        node = swarm.cli("node", "ls", "-q").split()[0]
        swarm.cli("node", "update", "--label-add", "mode-test=1", node)
        await eventually(lambda: len(found.learnt) > before, "a node event: learnt again")
        assert found.learnt[-1] == found.learnt[0], "still the same Swarm manager"
    finally:
        await found.fleet.close()


async def test_an_engine_that_left_its_swarm_is_learnt_again(engine_cluster: Watched) -> None:
    """As after ``docker swarm leave``, which sends no event: the client still believes
    it is a Swarm manager; the engine refuses the Swarm call, and the next one is right."""
    await engine_cluster.fleet.fan_out(DEV, None, AppsBackend.list_apps)
    engine_cluster.client._mode = EngineMode(swarm=True, node_id="gone")
    with pytest.raises(AllClustersFailed) as refused:
        await engine_cluster.fleet.fan_out(DEV, None, AppsBackend.list_apps)
    assert "swarm" in refused.value.details[0].msg.lower()
    fresh = await engine_cluster.fleet.fan_out(DEV, None, AppsBackend.list_apps)
    assert fresh.errors == []
    assert engine_cluster.learnt[-1] == EngineMode(swarm=False, node_id="")
