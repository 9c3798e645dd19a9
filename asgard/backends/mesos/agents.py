"""Mesos agents, from ``/master/slaves``; their apps from each agent's ``/containers``.

An agent's apps are named by its executors (``dev_infra_api.<uuid>``); only the
account's namespace is kept, so another account's apps on the same machine are
never shown. Agents are asked concurrently, a bounded number at a time; one
that does not answer is marked on its entry, and the others are still listed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from asgard.backends.common import Json
from asgard.backends.contract import AgentsBackend
from asgard.backends.mesos.client import MesosClient
from asgard.backends.mesos.config import KIND
from asgard.backends.mesos.converters import (
    agent_to_model,
    app_of_executor,
    app_to_model,
    group_of,
)
from asgard.backends.mesos.masters import Agent as AgentClient
from asgard.backends.mesos.stats import measure_agent
from asgard.errors import AsgardError, NotFound, NotSupported
from asgard.models import Account, Agent, App, Resources


def owned(account: Account, agents: Sequence[Json]) -> list[Json]:
    return [
        a
        for a in agents
        if account.owner is None or (a.get("attributes") or {}).get("owner") == account.owner
    ]


class MesosAgentsBackend(AgentsBackend):
    def __init__(self, client: MesosClient) -> None:
        super().__init__(client.cluster, KIND)
        self.client = client

    async def _apps_on(self, account: Account, agent: Json) -> set[str] | str:
        """The account's app ids with an executor on the agent, or why they cannot be known."""
        try:
            containers = await AgentClient(self.client.http, agent).containers()
        except AsgardError as exc:
            return exc.msg
        found = set()
        for container in containers:
            parsed = app_of_executor(str(container.get("executor_id", "")))
            if parsed is not None and parsed[0] == account.namespace:
                found.add(parsed[1])
        return found

    async def _to_agents(self, account: Account, agents: Sequence[Json]) -> list[Agent]:
        mine = owned(account, agents)
        gate = asyncio.Semaphore(self.client.config.agent_concurrency)

        async def one(agent: Json) -> Agent:
            async with gate:
                apps = await self._apps_on(account, agent)
            if isinstance(apps, str):
                return agent_to_model(
                    agent, cluster=self.cluster, total_apps=0, errors={"total_apps": apps}
                )
            return agent_to_model(agent, cluster=self.cluster, total_apps=len(apps), errors={})

        return list(await asyncio.gather(*(one(a) for a in mine)))

    async def list_agents(self, account: Account) -> list[Agent]:
        return await self._to_agents(account, await self.client.masters.agents())

    async def _agent(self, account: Account, agent_id: str) -> Json:
        found = [a for a in await self.client.masters.agents(agent_id) if a.get("id") == agent_id]
        mine = owned(account, found)
        if not mine:
            raise NotFound(f"agent '{agent_id}' not found", cluster=self.cluster)
        return mine[0]

    async def get_agent(self, account: Account, agent_id: str) -> Agent:
        return (await self._to_agents(account, [await self._agent(account, agent_id)]))[0]

    async def list_agent_apps(self, account: Account, agent_id: str) -> list[App]:
        agent = await self._agent(account, agent_id)
        ids = await self._apps_on(account, agent)
        if isinstance(ids, str):
            raise NotFound(
                f"agent '{agent_id}' cannot say what runs on it: {ids}", cluster=self.cluster
            )
        try:
            apps = await self.client.marathon.apps(group_of(account))
        except NotSupported:
            apps = []
        found = [app_to_model(a, account=account, cluster=self.cluster) for a in apps]
        return sorted((a for a in found if a.id in ids), key=lambda a: a.id)

    async def measure_agents(self, account: Account) -> dict[str, Resources]:
        """Each agent's executors, a bounded number of agents at a time; an agent that does
        not answer is left out (no meter), not counted as zero."""
        gate = asyncio.Semaphore(self.client.config.agent_concurrency)

        async def one(agent: Json) -> tuple[str, Resources | None]:
            async with gate:
                try:
                    return str(agent["id"]), await measure_agent(
                        AgentClient(self.client.http, agent)
                    )
                except AsgardError:
                    return str(agent["id"]), None

        agents = owned(account, await self.client.masters.agents())
        found = await asyncio.gather(*(one(a) for a in agents))
        return {agent_id: used for agent_id, used in found if used is not None}
