"""Apps on a Swarm: replicated services labelled ``asgard.app=<id>``, their Swarm tasks
as tasks. The Swarm rolls a service's tasks itself: updates are written with the
service's current version (read again when another change got there first), a restart
is a forced update, and a delete waits until no container of the service is left.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable
from datetime import datetime

from asgard.backends.common import Json, app_taken
from asgard.backends.contract import LogLines, LogStream
from asgard.backends.docker import labels as L
from asgard.backends.docker.apps import DockerApps
from asgard.backends.docker.client import DockerClient
from asgard.backends.docker.converters import service_to_app, swarm_task_to_task
from asgard.backends.docker.images import ensure_image
from asgard.backends.docker.logs import log_lines, log_stream
from asgard.backends.docker.specs import (
    BASELINE,
    Hardening,
    env_list,
    object_name,
    service_spec,
    swarm_resources,
)
from asgard.backends.docker.swarm.services import AppServices
from asgard.backends.log_lines import unknown_task
from asgard.errors import ClusterFailure, Conflict, NotFound
from asgard.models import Account, App, AppPatch, AppSpec, AppVersion, Task
from asgard.models.version import version_of

__all__ = ["SwarmApps"]

GONE_POLL_S = 0.2
VERSION_RETRIES = 3


class SwarmApps(DockerApps):
    def __init__(self, client: DockerClient, hardening: Hardening = BASELINE) -> None:
        super().__init__(client)
        self.services = AppServices(client)
        self.hardening = hardening

    # reading

    async def list_apps(self, account: Account) -> list[App]:
        return list((await self.services.apps_by_service(account)).values())

    async def get_app(self, account: Account, app_id: str) -> App:
        return await self.services.app(account, app_id)

    async def app_versions(self, account: Account, app_id: str) -> list[AppVersion]:
        """The spec that runs and, once the service was changed, the one before it
        (``PreviousSpec``): all a Swarm keeps; older ones are what Asgard recorded
        deploying. The previous one's time is not kept. Both are read from the specs
        (replicas as specified, not as running)."""
        service = await self.services.service(account, app_id)
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

    async def list_tasks(self, account: Account, app_id: str) -> list[Task]:
        service = await self.services.service(account, app_id)
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
        service = await self.services.service(account, app_id)
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

    async def app_logs(
        self, account: Account, app_id: str, *, tail: int, follow: bool
    ) -> LogStream:
        service = await self.services.service(account, app_id)
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
        service = await self.services.service(account, app_id)
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

    # changing

    async def create_app(self, account: Account, spec: AppSpec) -> App:
        try:
            await self.get_app(account, spec.id)
        except NotFound:
            pass
        else:
            raise app_taken(spec.id, self.cluster)
        await ensure_image(self.client, spec.image)
        name = object_name(account.namespace, spec.id)
        try:
            await self.client.create_service(service_spec(account, spec, name, self.hardening))
        except Conflict:
            raise Conflict(
                f"the service name '{name}' is taken on this Swarm",
                field="id",
                cluster=self.cluster,
            ) from None
        return await self.get_app(account, spec.id)

    async def _update(self, account: Account, app_id: str, change: Callable[[Json], None]) -> App:
        """Read the service, change its spec, write it back with the version read.

        A concurrent change makes the engine refuse the stale version; read again then."""
        for attempt in range(VERSION_RETRIES):
            service = await self.services.service(account, app_id)
            spec = copy.deepcopy(service["Spec"])
            change(spec)
            try:
                await self.client.update_service(service["ID"], service["Version"]["Index"], spec)
                break
            except (Conflict, ClusterFailure) as exc:
                stale = isinstance(exc, Conflict) or "out of sequence" in exc.msg
                if not stale or attempt == VERSION_RETRIES - 1:
                    raise
        return await self.get_app(account, app_id)

    async def update_app(self, account: Account, app_id: str, patch: AppPatch) -> App:
        if patch.image is not None:
            await ensure_image(self.client, patch.image)

        def change(spec: Json) -> None:
            container = spec["TaskTemplate"]["ContainerSpec"]
            if patch.instances is not None:
                spec["Mode"] = {"Replicated": {"Replicas": patch.instances}}
            if patch.image is not None:
                container["Image"] = patch.image
            if patch.cmd is not None:
                container["Command"] = patch.cmd
            if patch.args is not None:
                container["Args"] = patch.args
            if patch.env is not None:
                container["Env"] = env_list(patch.env)
            if patch.labels is not None:
                own = {k: v for k, v in spec.get("Labels", {}).items() if k.startswith(L.PREFIX)}
                spec["Labels"] = {**L.user_labels(patch.labels), **own}
            if patch.resources is not None:
                spec["TaskTemplate"]["Resources"] = swarm_resources(
                    patch.resources, self.hardening.pids_limit
                )
            container.update(self.hardening.container_spec())  # an app made before gets it

        return await self._update(account, app_id, change)

    async def rollback_app(self, account: Account, app_id: str, version: AppVersion) -> App:
        """Write the whole spec of an earlier version, as an update of the service (the
        Swarm rolls its tasks as for any update; its own rollback knows one spec only)."""
        await ensure_image(self.client, version.spec.image)
        target = version.spec.model_copy(update={"cluster": self.cluster, "id": app_id})

        def change(current: Json) -> None:
            fresh = service_spec(account, target, current["Name"], self.hardening)
            current.clear()
            current.update(fresh)

        return await self._update(account, app_id, change)

    async def restart_app(self, account: Account, app_id: str) -> App:
        def change(spec: Json) -> None:
            template = spec["TaskTemplate"]
            template["ForceUpdate"] = int(template.get("ForceUpdate", 0)) + 1

        return await self._update(account, app_id, change)

    async def delete_app(self, account: Account, app_id: str) -> None:
        """Remove the service, then wait until its containers are gone too."""
        service = await self.services.service(account, app_id)
        await self.client.remove_service(service["ID"])
        filters = {"label": [f"com.docker.swarm.service.id={service['ID']}"]}
        while True:  # the engine announces no "containers gone" event worth waiting on
            if not await self.client.containers(filters):
                return
            await asyncio.sleep(GONE_POLL_S)
