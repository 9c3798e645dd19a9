"""Reading a Swarm: nodes are agents, services are apps, Swarm tasks are tasks."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import datetime

from asgard.backends.common import Json
from asgard.backends.contract import LogLines, LogStream
from asgard.backends.docker import labels as L
from asgard.backends.docker.client import DockerClient
from asgard.backends.docker.converters import (
    node_to_agent,
    service_to_app,
    swarm_task_to_task,
    task_reservation,
)
from asgard.backends.docker.logs import log_lines, log_stream
from asgard.backends.log_lines import unknown_task
from asgard.errors import NotFound
from asgard.models import Account, Agent, App, AppVersion, Resources, Task
from asgard.models.version import version_of


class SwarmReader:
    def __init__(self, client: DockerClient) -> None:
        self.client = client
        self.cluster = client.cluster

    async def _namespace_services(self, account: Account) -> list[Json]:
        services = await self.client.services(L.namespace_filter(account.namespace, L.APP))
        return [s for s in services if (s.get("Spec", {}).get("Labels") or {}).get(L.APP)]

    async def agents(self, account: Account) -> list[Agent]:
        nodes, running, services = await asyncio.gather(
            self.client.nodes(),
            self.client.tasks({"desired-state": ["running"]}),
            self._namespace_services(account),
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

    async def agent(self, account: Account, agent_id: str) -> Agent:
        try:
            node = await self.client.node(agent_id)
        except NotFound:
            raise NotFound(f"agent '{agent_id}' not found", cluster=self.cluster) from None
        running, services = await asyncio.gather(
            self.client.tasks({"node": [node["ID"]], "desired-state": ["running"]}),
            self._namespace_services(account),
        )
        found = self._agents(account, [node], running, services)
        if not found:
            raise NotFound(f"agent '{agent_id}' not found", cluster=self.cluster)
        return found[0]

    async def agent_apps(self, account: Account, agent_id: str) -> list[App]:
        await self.agent(account, agent_id)
        on_node = await self.client.tasks({"node": [agent_id], "desired-state": ["running"]})
        service_ids = {t.get("ServiceID") for t in on_node}
        return [
            a for sid, a in (await self._apps_by_service(account)).items() if sid in service_ids
        ]

    async def _apps_by_service(self, account: Account) -> dict[str, App]:
        services = await self._namespace_services(account)
        if not services:
            return {}
        tasks = await self.client.tasks({"service": [s["ID"] for s in services]})
        by_service: dict[str, list[Json]] = defaultdict(list)
        for task in tasks:
            by_service[task.get("ServiceID", "")].append(task)
        return {
            s["ID"]: service_to_app(s, cluster=self.cluster, tasks=by_service[s["ID"]])
            for s in services
        }

    async def apps(self, account: Account) -> list[App]:
        return list((await self._apps_by_service(account)).values())

    async def service(self, account: Account, app_id: str) -> Json:
        services = await self.client.services(
            L.namespace_filter(account.namespace, f"{L.APP}={app_id}")
        )
        if not services:
            raise NotFound(f"app '{app_id}' not found", cluster=self.cluster)
        return services[0]

    async def app(self, account: Account, app_id: str) -> App:
        service = await self.service(account, app_id)
        tasks = await self.client.tasks({"service": [service["ID"]]})
        return service_to_app(service, cluster=self.cluster, tasks=tasks)

    async def versions(self, account: Account, app_id: str) -> list[AppVersion]:
        """The spec that runs and, once the service was changed, the one before it
        (``PreviousSpec``): all a Swarm keeps. The previous one's time is not kept. Both
        are read from the specs (replicas as specified, not as running)."""
        service = await self.service(account, app_id)
        specified = {k: v for k, v in service.items() if k != "ServiceStatus"}
        current = service_to_app(specified, cluster=self.cluster, tasks=[])
        found = [version_of(current, created_at=current.updated_at)]
        previous = service.get("PreviousSpec")
        if previous:
            before = {**specified, "Spec": previous}
            if previous.get("EndpointSpec") != service["Spec"].get("EndpointSpec"):
                before.pop("Endpoint", None)  # the ports it published are not known
            found.append(version_of(service_to_app(before, cluster=self.cluster, tasks=[])))
        return found

    async def tasks(self, account: Account, app_id: str) -> list[Task]:
        service = await self.service(account, app_id)
        tasks, nodes = await asyncio.gather(
            self.client.tasks({"service": [service["ID"]], "desired-state": ["running"]}),
            self.client.nodes(),
        )
        hostnames = {n["ID"]: n.get("Description", {}).get("Hostname", n["ID"]) for n in nodes}
        ports = sorted(
            {
                p["PublishedPort"]
                for p in service.get("Endpoint", {}).get("Ports") or []
                if p.get("PublishedPort")
            }
        )
        return sorted(
            (
                swarm_task_to_task(
                    t, cluster=self.cluster, app_id=app_id, hostnames=hostnames, ports=ports
                )
                for t in tasks
            ),
            key=lambda t: t.id,
        )

    async def running_containers(self, account: Account, app_id: str) -> tuple[list[str], int]:
        """Only containers on this manager's node can be sampled through its engine."""
        service = await self.service(account, app_id)
        tasks = await self.client.tasks({"service": [service["ID"]], "desired-state": ["running"]})
        here = (await self.client.mode()).node_id
        running = [t for t in tasks if t.get("Status", {}).get("State") == "running"]
        local = [
            t["Status"]["ContainerStatus"]["ContainerID"]
            for t in running
            if t.get("NodeID") == here
            and t.get("Status", {}).get("ContainerStatus", {}).get("ContainerID")
        ]
        return local, len(running) - len(local)

    async def logs(self, account: Account, app_id: str, *, tail: int, follow: bool) -> LogStream:
        service = await self.service(account, app_id)
        return log_stream(
            self.client,
            self.client.path("services", service["ID"], "logs"),
            tail=tail,
            follow=follow,
            tty=False,
        )

    async def task_logs(
        self,
        account: Account,
        app_id: str,
        task_id: str,
        *,
        tail: int,
        since: datetime | None,
        follow: bool,
    ) -> LogLines:
        """A task is a Swarm task of the app's service; the manager reads its logs from
        whichever node runs it."""
        service = await self.service(account, app_id)
        tasks = await self.client.tasks({"service": [service["ID"]]})
        if task_id not in {t["ID"] for t in tasks}:
            raise unknown_task(app_id, task_id, self.cluster)
        container = service.get("Spec", {}).get("TaskTemplate", {}).get("ContainerSpec", {})
        return log_lines(
            self.client,
            self.client.path("tasks", task_id, "logs"),
            task=task_id,
            tail=tail,
            since=since,
            follow=follow,
            tty=bool(container.get("TTY")),
        )
