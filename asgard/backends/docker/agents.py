"""Agents of a Docker cluster: a Swarm's nodes, or the single engine's host."""

from __future__ import annotations

from asgard.backends.contract import AgentsBackend
from asgard.backends.docker.config import KIND
from asgard.backends.docker.stats import measure_engine
from asgard.backends.docker.variants import Variants
from asgard.models import Account, Agent, App, Resources


class DockerAgentsBackend(AgentsBackend):
    def __init__(self, variants: Variants) -> None:
        super().__init__(variants.client.cluster, KIND)
        self.variants = variants

    async def list_agents(self, account: Account) -> list[Agent]:
        return await (await self.variants.current()).reader.agents(account)

    async def get_agent(self, account: Account, agent_id: str) -> Agent:
        return await (await self.variants.current()).reader.agent(account, agent_id)

    async def list_agent_apps(self, account: Account, agent_id: str) -> list[App]:
        return await (await self.variants.current()).reader.agent_apps(account, agent_id)

    async def measure_agents(self, account: Account) -> dict[str, Resources]:
        return await measure_engine(self.variants.client)
