"""A tiny third-party cluster kind, ``static``: agents read from its configuration.

It lives outside the ``asgard`` package on purpose. The tests register it
through the ``asgard.backends`` entry point group, exactly as a separate
package would, and use it where a kind that can do little is what is needed
(operations it cannot do must answer 501).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any, Literal

from pydantic import Field

from asgard.backends.cluster import Cluster
from asgard.backends.contract import AgentsBackend, AppsBackend, ClusterClient, ClusterParts
from asgard.backends.feeds import ClusterFeed, Signal
from asgard.backends.registry import BackendContext, BackendPlugin, ClusterConfig
from asgard.clusters import assemble
from asgard.errors import ClusterUnreachable, NotFound
from asgard.models import Account, Agent, App, Capabilities, Resources, Task
from tests.support.scratch import scratch_dir

KIND = "static"


class StaticClusterConfig(ClusterConfig):
    kind: Literal["static"] = "static"
    agents: list[dict[str, Any]] = Field(default_factory=list)
    down: bool = False
    delay_s: float = 0.0
    """Answer this late: a slow cluster."""
    lacks: list[str] = Field(default_factory=list)
    """Capabilities the cluster declares it lacks: what the core then refuses."""


class StaticFeed(ClusterFeed):
    """A change feed the tests drive: ``emit`` a signal, ``cut`` the connection."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[Signal | None] = asyncio.Queue()
        self.connections = 0

    def emit(self, signal: Signal | None = None) -> None:
        self.queue.put_nowait(signal or Signal.everything())

    def cut(self) -> None:
        self.queue.put_nowait(None)

    async def signals(self) -> AsyncIterator[Signal]:
        self.connections += 1
        yield Signal.everything()
        while True:
            signal = await self.queue.get()
            if signal is None:
                raise ConnectionResetError("the feed was cut")
            yield signal


class StaticClient(ClusterClient):
    def __init__(self, config: StaticClusterConfig) -> None:
        self.config = config
        self.asked = 0
        """How often the cluster was asked its version."""

    async def version(self) -> str:
        self.asked += 1
        await asyncio.sleep(self.config.delay_s)
        if self.config.down:
            raise ClusterUnreachable(self.config.name, f"cluster {self.config.name} is down")
        return "static-1"

    async def close(self) -> None:
        return None


class StaticAgents(AgentsBackend):
    def __init__(self, config: StaticClusterConfig) -> None:
        super().__init__(config.name, KIND)
        self.config = config
        self.reads = 0
        """How often the cluster itself was asked: what a cache saves."""

    async def list_agents(self, account: Account) -> list[Agent]:
        self.reads += 1
        await asyncio.sleep(self.config.delay_s)
        if self.config.down:
            raise ClusterUnreachable(self.cluster, f"cluster {self.cluster} is down")
        agents = [
            Agent(
                id=a["id"],
                cluster=self.cluster,
                type="STATIC",
                hostname=a.get("hostname", a["id"]),
                active=True,
                attributes=a.get("attributes", {}),
                resources=Resources(**a.get("resources", {"cpus": 1, "mem": 1024})),
                used_resources=Resources(**a.get("used", {})),
            )
            for a in self.config.agents
        ]
        return [a for a in agents if a.owned_by(account.owner)]

    async def get_agent(self, account: Account, agent_id: str) -> Agent:
        for agent in await self.list_agents(account):
            if agent.id == agent_id:
                return agent
        raise NotFound(f"agent '{agent_id}' not found", cluster=self.cluster)

    async def list_agent_apps(self, account: Account, agent_id: str) -> list[App]:
        await self.get_agent(account, agent_id)
        return []


class StaticApps(AppsBackend):
    """No apps, and none can be made; a restart takes ``delay_s`` and then finds no such
    app, as a slow cluster's would."""

    def __init__(self, config: StaticClusterConfig) -> None:
        super().__init__(config.name, KIND)
        self.config = config

    async def list_apps(self, account: Account) -> list[App]:
        return []

    async def restart_app(self, account: Account, app_id: str) -> App:
        await asyncio.sleep(self.config.delay_s)
        raise NotFound(f"app '{app_id}' not found", cluster=self.cluster)

    async def get_app(self, account: Account, app_id: str) -> App:
        raise NotFound(f"app '{app_id}' not found", cluster=self.cluster)

    async def list_tasks(self, account: Account, app_id: str) -> list[Task]:
        raise NotFound(f"app '{app_id}' not found", cluster=self.cluster)


class StaticPlugin(BackendPlugin[StaticClusterConfig]):
    kind = KIND
    config_model = StaticClusterConfig

    async def parts(self, config: StaticClusterConfig, context: BackendContext) -> ClusterParts:
        return ClusterParts(
            client=StaticClient(config),
            agents=StaticAgents(config),
            apps=StaticApps(config),
            feed=StaticFeed(),
            capabilities=Capabilities.model_validate(dict.fromkeys(config.lacks, False)),
        )


plugin = StaticPlugin()


async def static_cluster(
    name: str,
    agents: list[dict[str, Any]],
    *,
    down: bool = False,
    delay_s: float = 0.0,
    timeout_s: float = 10.0,
    write_timeout_s: float = 120.0,
    resync_s: float = 30.0,
    probe_s: float = 15.0,
    lacks: tuple[str, ...] = (),
) -> Cluster:
    config = StaticClusterConfig(
        name=name,
        agents=agents,
        down=down,
        delay_s=delay_s,
        timeout_s=timeout_s,
        write_timeout_s=write_timeout_s,
        resync_s=resync_s,
        probe_s=probe_s,
        lacks=list(lacks),
    )
    return await assemble(config, BackendContext.local(scratch_dir("static-"), "static"))
