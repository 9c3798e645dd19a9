"""The agents of a local cluster: exactly one, the host Asgard runs on.

Its used resources are what the running instances and jobs declare, not what they use
(as a scheduler reserves), and its attributes are the configured ones with
``<state_dir>/attributes.json`` over them, so an operator can give it an owner without
restarting Asgard.
"""

from __future__ import annotations

from asgard.backends.contract import AgentsBackend
from asgard.errors import NotFound
from asgard.models import Account, Agent, App
from asgard_local.config import KIND
from asgard_local.converters import host_to_agent, record_to_app
from asgard_local.host import LocalHost


class LocalAgentsBackend(AgentsBackend):
    def __init__(self, host: LocalHost) -> None:
        super().__init__(host.cluster, KIND)
        self.host = host

    def _running_apps(self, account: Account) -> list[App]:
        apps = [
            record_to_app(a.record, a.views(), cluster=self.cluster)
            for a in self.host.apps.of(account.namespace)
        ]
        return [a for a in apps if a.instances.running > 0]

    def _agent(self, account: Account) -> Agent:
        self.host.ensure()
        return host_to_agent(
            self.host.client.facts(),
            cluster=self.cluster,
            attributes=self.host.client.attributes(),
            used=self.host.reserved(),
            total_apps=len(self._running_apps(account)),
        )

    async def list_agents(self, account: Account) -> list[Agent]:
        agent = self._agent(account)
        return [agent] if agent.owned_by(account.owner) else []

    async def get_agent(self, account: Account, agent_id: str) -> Agent:
        agent = self._agent(account)
        if agent_id in (agent.id, agent.hostname) and agent.owned_by(account.owner):
            return agent
        raise NotFound(f"agent '{agent_id}' not found", cluster=self.cluster)

    async def list_agent_apps(self, account: Account, agent_id: str) -> list[App]:
        await self.get_agent(account, agent_id)
        return self._running_apps(account)
