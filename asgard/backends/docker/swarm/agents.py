"""The agents of a Swarm: its nodes, with the resources its running tasks reserve there.
A node's labels (``docker node update --label-add owner=team-a``) are its attributes."""

from __future__ import annotations

import asyncio
from collections import defaultdict

from asgard.backends.common import Json
from asgard.backends.docker.agents import DockerAgents
from asgard.backends.docker.client import DockerClient
from asgard.backends.docker.converters import node_to_agent, task_reservation
from asgard.backends.docker.swarm.services import AppServices
from asgard.errors import NotFound
from asgard.models import Account, Agent, App, Resources

__all__ = ["SwarmAgents"]


class SwarmAgents(DockerAgents):
    def __init__(self, client: DockerClient) -> None:
        super().__init__(client)
        self.services = AppServices(client)

    async def list_agents(self, account: Account) -> list[Agent]:
        nodes, running, services = await asyncio.gather(
            self.client.nodes(),
            self.client.tasks({"desired-state": ["running"]}),
            self.services.of(account),
        )
        return self._agents(account, nodes, running, services)

    def _agents(
        self, account: Account, nodes: list[Json], running: list[Json], services: list[Json]
    ) -> list[Agent]:
        ours = {s["ID"] for s in services}
        used: dict[str, Resources] = defaultdict(Resources)
        apps: dict[str, set[str]] = defaultdict(set)
        for task in running:
            node_id = task.get("NodeID")
            if not node_id:
                continue
            used[node_id] = used[node_id] + task_reservation(task)
            if task.get("ServiceID") in ours:
                apps[node_id].add(task["ServiceID"])
        agents = [
            node_to_agent(
                node,
                cluster=self.cluster,
                used=used[node["ID"]],
                total_apps=len(apps[node["ID"]]),
            )
            for node in nodes
        ]
        return [a for a in agents if a.owned_by(account.owner)]

    async def get_agent(self, account: Account, agent_id: str) -> Agent:
        try:
            node = await self.client.node(agent_id)
        except NotFound:
            raise NotFound(f"agent '{agent_id}' not found", cluster=self.cluster) from None
        running, services = await asyncio.gather(
            self.client.tasks({"node": [node["ID"]], "desired-state": ["running"]}),
            self.services.of(account),
        )
        found = self._agents(account, [node], running, services)
        if not found:
            raise NotFound(f"agent '{agent_id}' not found", cluster=self.cluster)
        return found[0]

    async def list_agent_apps(self, account: Account, agent_id: str) -> list[App]:
        await self.get_agent(account, agent_id)
        on_node = await self.client.tasks({"node": [agent_id], "desired-state": ["running"]})
        service_ids = {t.get("ServiceID") for t in on_node}
        by_service = await self.services.apps_by_service(account)
        return [a for sid, a in by_service.items() if sid in service_ids]
