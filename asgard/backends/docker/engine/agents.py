"""The agent of a single engine: its host, the one agent there is. Its attributes are the
engine's labels, its used resources the limits of its running containers."""

from __future__ import annotations

import asyncio

from asgard.backends.docker import labels as L
from asgard.backends.docker.agents import DockerAgents
from asgard.backends.docker.client import DockerClient
from asgard.backends.docker.converters import container_allotment, engine_to_agent
from asgard.backends.docker.engine.containers import AppContainers
from asgard.errors import NotFound
from asgard.models import Account, Agent, App, Resources

__all__ = ["EngineAgents"]


class EngineAgents(DockerAgents):
    def __init__(self, client: DockerClient) -> None:
        super().__init__(client)
        self.containers = AppContainers(client)

    async def list_agents(self, account: Account) -> list[Agent]:
        info, running = await asyncio.gather(self.client.info(), self.client.containers(all=False))
        inspected = await self.containers.inspect_all(c["Id"] for c in running)
        used = Resources.total(container_allotment(c) for c in inspected)
        apps = {
            (c.get("Labels") or {}).get(L.APP)
            for c in running
            if (c.get("Labels") or {}).get(L.NAMESPACE) == account.namespace
        }
        apps.discard(None)
        agent = engine_to_agent(
            info,
            cluster=self.cluster,
            used=used,
            total_apps=len(apps),
            attributes=self.client.agent_attributes,
        )
        return [agent] if agent.owned_by(account.owner) else []

    async def get_agent(self, account: Account, agent_id: str) -> Agent:
        for agent in await self.list_agents(account):
            if agent_id in (agent.id, agent.hostname):
                return agent
        raise NotFound(f"agent '{agent_id}' not found", cluster=self.cluster)

    async def list_agent_apps(self, account: Account, agent_id: str) -> list[App]:
        await self.get_agent(account, agent_id)
        return [a for a in await self.containers.apps(account) if a.instances.running > 0]
