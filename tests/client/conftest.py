"""Asgard in this process on a real socket, over a real Docker Engine, and clients of it
made the way a user makes them: a URL and a key."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from asgard.backends.docker.config import DockerClusterConfig
from asgard.backends.orchestrator import Orchestrator
from asgard.client import AsgardClient
from asgard.events import EventHub
from asgard.models import Role
from tests.conftest import StartAsgard, backend_context, build
from tests.support.asgard import AsgardUnderTest, Caller
from tests.support.dockerd import DockerDaemon


@dataclass
class Site:
    asgard: AsgardUnderTest
    url: str
    dev: Caller
    """An operator of account ``dev``."""
    viewer: Caller
    """A viewer of account ``dev``."""
    admin: Caller
    """An Asgard administrator, in no account."""

    def client(self, caller: Caller | None = None) -> AsgardClient:
        return AsgardClient(self.url, (caller or self.dev).key)


@pytest.fixture
async def site(
    start_asgard: StartAsgard, engine: DockerDaemon, tmp_path: Path
) -> AsyncIterator[Site]:
    data_dir = tmp_path / "data"
    config = DockerClusterConfig(name="local", url=engine.url, job_retention_s=3600)
    cluster = await build(config, backend_context(data_dir))
    hub = EventHub()
    fleet = Orchestrator([cluster])
    fleet.enable_caches(hub)
    asgard = await start_asgard(
        fleet, hub=hub, data_dir=data_dir, workflow_tick_s=0.2, reconcile_s=3600
    )
    dev = await asgard.account("dev")
    yield Site(
        asgard=asgard,
        url=str(asgard.client.make_url("/")).rstrip("/"),
        dev=await asgard.caller("dev@example.com", roles={dev.id: Role.OPERATOR}),
        viewer=await asgard.caller("view@example.com", roles={dev.id: Role.VIEWER}),
        admin=await asgard.caller("root@example.com", admin=True),
    )
    await cluster.close()
