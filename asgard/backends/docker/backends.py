"""The Docker backends: each call asks the engine whether it is a Swarm manager, then works
on the Swarm (nodes, services, tasks) or on the single engine (host, labelled containers)."""

from __future__ import annotations

from asgard.backends.base import AgentsBackend, AppsBackend, LogStream
from asgard.backends.docker import labels as L
from asgard.backends.docker.client import DockerClient
from asgard.backends.docker.engine import EngineReader
from asgard.backends.docker.engine_deploy import EngineDeployer
from asgard.backends.docker.logs import log_stream
from asgard.backends.docker.stats import INTERVAL_S, Usage, sample_all
from asgard.backends.docker.swarm import SwarmReader
from asgard.backends.docker.swarm_deploy import SwarmDeployer
from asgard.backends.log_streams import merge
from asgard.models import (
    Account,
    Agent,
    App,
    AppPatch,
    AppSpec,
    AppStats,
    StatsWindow,
    Task,
)
from asgard.models.base import pct, round_up_pct, utc_now

KIND = "docker"


class _DockerBackend:
    def __init__(self, client: DockerClient) -> None:
        self.client = client
        self.swarm = SwarmReader(client)
        self.engine = EngineReader(client)

    async def is_swarm(self) -> bool:
        return await self.client.is_swarm_manager()

    async def reader(self) -> SwarmReader | EngineReader:
        return self.swarm if await self.is_swarm() else self.engine


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


def app_stats_from(usages: list[Usage], skipped: int) -> AppStats:
    message = (
        f"the Docker Engine keeps no history: a sample of {len(usages)} running instance(s) "
        f"over {INTERVAL_S:g} s"
    )
    if skipped:
        message += f"; {skipped} instance(s) on other nodes cannot be sampled from this manager"
    return AppStats(
        cpu_pct=round_up_pct(sum(u.cpu_pct for u in usages)),
        ram_pct=pct(sum(u.mem_used for u in usages), sum(u.mem_limit for u in usages)),
        cpu_thr_pct=pct(sum(u.throttled_periods for u in usages), sum(u.periods for u in usages)),
        source="sample",
        window=None,
        sampled_at=utc_now(),
        instances=len(usages),
        message=message,
    )


class DockerAppsBackend(_DockerBackend, AppsBackend):
    def __init__(self, client: DockerClient) -> None:
        _DockerBackend.__init__(self, client)
        AppsBackend.__init__(self, client.cluster, KIND)
        self.swarm_deploy = SwarmDeployer(client, self.swarm)
        self.engine_deploy = EngineDeployer(client, self.engine)

    async def deployer(self) -> SwarmDeployer | EngineDeployer:
        return self.swarm_deploy if await self.is_swarm() else self.engine_deploy

    async def list_apps(self, account: Account) -> list[App]:
        return await (await self.reader()).apps(account)

    async def get_app(self, account: Account, app_id: str) -> App:
        return await (await self.reader()).app(account, app_id)

    async def list_tasks(self, account: Account, app_id: str) -> list[Task]:
        return await (await self.reader()).tasks(account, app_id)

    async def create_app(self, account: Account, spec: AppSpec) -> App:
        return await (await self.deployer()).create(account, spec)

    async def update_app(self, account: Account, app_id: str, patch: AppPatch) -> App:
        return await (await self.deployer()).update(account, app_id, patch)

    async def delete_app(self, account: Account, app_id: str) -> None:
        await (await self.deployer()).delete(account, app_id)

    async def restart_app(self, account: Account, app_id: str) -> App:
        return await (await self.deployer()).restart(account, app_id)

    async def _running_containers(self, account: Account, app_id: str) -> tuple[list[str], int]:
        """Containers of the app's running instances this engine can see, and how many it cannot."""
        if await self.is_swarm():
            service = await self.swarm.service(account, app_id)
            tasks = await self.client.tasks(
                {"service": [service["ID"]], "desired-state": ["running"]}
            )
            here = ((await self.client.info()).get("Swarm") or {}).get("NodeID")
            running = [t for t in tasks if t.get("Status", {}).get("State") == "running"]
            local = [
                t["Status"]["ContainerStatus"]["ContainerID"]
                for t in running
                if t.get("NodeID") == here
                and t.get("Status", {}).get("ContainerStatus", {}).get("ContainerID")
            ]
            return local, len(running) - len(local)
        grouped = await self.engine.containers_by_app(account, app_id)
        if app_id not in grouped:
            await self.engine.app(account, app_id)  # raises NotFound
        return [
            c["Id"]
            for c in grouped[app_id]
            if c["Labels"].get(L.ROLE) != L.ROLE_DEFINITION and c.get("State") == "running"
        ], 0

    async def app_stats(self, account: Account, app_id: str, window: StatsWindow) -> AppStats:
        containers, skipped = await self._running_containers(account, app_id)
        return app_stats_from(await sample_all(self.client, containers), skipped)

    async def app_logs(
        self, account: Account, app_id: str, *, tail: int, follow: bool
    ) -> LogStream:
        if await self.is_swarm():
            service = await self.swarm.service(account, app_id)
            return log_stream(
                self.client, f"services/{service['ID']}/logs", tail=tail, follow=follow, tty=False
            )
        grouped = await self.engine.containers_by_app(account, app_id)
        instances = [
            c for c in grouped.get(app_id, []) if c["Labels"].get(L.ROLE) != L.ROLE_DEFINITION
        ]
        if not instances:
            await self.engine.app(account, app_id)  # NotFound for an unknown app
            return merge({})
        streams = {}
        for container in instances:
            inspected = await self.client.inspect_container(container["Id"])
            tty = bool(inspected.get("Config", {}).get("Tty"))
            streams[container["Id"][:12]] = log_stream(
                self.client, f"containers/{container['Id']}/logs", tail=tail, follow=follow, tty=tty
            )
        return merge(streams)
