"""The Docker backends: each call asks the engine whether it is a Swarm manager, then reads
the Swarm (nodes, services, tasks) or the single engine (host, labelled containers)."""

from __future__ import annotations

from asgard.backends.base import AgentsBackend, AppsBackend
from asgard.backends.docker.client import DockerClient
from asgard.backends.docker.engine import EngineReader
from asgard.backends.docker.swarm import SwarmReader
from asgard.models import Account, Agent, App, Task

KIND = "docker"


class _DockerBackend:
    def __init__(self, client: DockerClient) -> None:
        self.client = client
        self.swarm = SwarmReader(client)
        self.engine = EngineReader(client)

    async def reader(self) -> SwarmReader | EngineReader:
        return self.swarm if await self.client.is_swarm_manager() else self.engine


class DockerAgentsBackend(_DockerBackend, AgentsBackend):
    def __init__(self, client: DockerClient) -> None:
        _DockerBackend.__init__(self, client)
        AgentsBackend.__init__(self, client.cluster, KIND)

    async def list_agents(self, account: Account) -> list[Agent]:
        return await (await self.reader()).agents(account)

    async def get_agent(self, account: Account, agent_id: str) -> Agent:
        return await (await self.reader()).agent(account, agent_id)

    async def list_agent_apps(self, account: Account, agent_id: str) -> list[App]:
        return await (await self.reader()).agent_apps(account, agent_id)


class DockerAppsBackend(_DockerBackend, AppsBackend):
    def __init__(self, client: DockerClient) -> None:
        _DockerBackend.__init__(self, client)
        AppsBackend.__init__(self, client.cluster, KIND)

    async def list_apps(self, account: Account) -> list[App]:
        return await (await self.reader()).apps(account)

    async def get_app(self, account: Account, app_id: str) -> App:
        return await (await self.reader()).app(account, app_id)

    async def list_tasks(self, account: Account, app_id: str) -> list[Task]:
        return await (await self.reader()).tasks(account, app_id)
