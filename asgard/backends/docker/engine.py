"""Reading a single engine: the host is the one agent, apps are labelled containers.

An app's containers carry ``asgard.namespace`` and ``asgard.app``. Asgard's own
apps also have a *definition* container (``asgard.role=definition``), created
and never started, that holds the spec and the wanted instance count; it is
what lets an app scaled to zero keep its definition on the engine itself. For
containers labelled by hand there is no definition: the newest container is
the spec and every container is wanted.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from asgard.backends.common import Json
from asgard.backends.contract import LogLines, LogStream
from asgard.backends.docker import labels as L
from asgard.backends.docker.client import DockerClient
from asgard.backends.docker.converters import (
    container_allotment,
    container_to_task,
    containers_to_app,
    engine_to_agent,
)
from asgard.backends.docker.logs import log_lines, log_stream
from asgard.backends.log_lines import unknown_task
from asgard.backends.log_streams import merge
from asgard.errors import NotFound
from asgard.models import Account, Agent, App, AppVersion, Resources, Task
from asgard.models.version import version_of

INSPECT_CONCURRENCY = 16


class EngineReader:
    def __init__(self, client: DockerClient) -> None:
        self.client = client
        self.cluster = client.cluster

    async def _inspect_all(self, ids: Iterable[str]) -> list[Json]:
        gate = asyncio.Semaphore(INSPECT_CONCURRENCY)

        async def inspect(container_id: str) -> Json | None:
            async with gate:
                try:
                    return await self.client.inspect_container(container_id)
                except NotFound:  # removed between list and inspect
                    return None

        found = await asyncio.gather(*(inspect(i) for i in ids))
        return [c for c in found if c is not None]

    async def agents(self, account: Account) -> list[Agent]:
        info, running = await asyncio.gather(self.client.info(), self.client.containers(all=False))
        inspected = await self._inspect_all(c["Id"] for c in running)
        used = Resources.total(container_allotment(c) for c in inspected)
        apps = {
            (c.get("Labels") or {}).get(L.APP)
            for c in running
            if (c.get("Labels") or {}).get(L.NAMESPACE) == account.namespace
        }
        apps.discard(None)
        agent = engine_to_agent(info, cluster=self.cluster, used=used, total_apps=len(apps))
        return [agent] if agent.owned_by(account.owner) else []

    async def agent(self, account: Account, agent_id: str) -> Agent:
        for agent in await self.agents(account):
            if agent_id in (agent.id, agent.hostname):
                return agent
        raise NotFound(f"agent '{agent_id}' not found", cluster=self.cluster)

    async def agent_apps(self, account: Account, agent_id: str) -> list[App]:
        await self.agent(account, agent_id)
        return [a for a in await self.apps(account) if a.instances.running > 0]

    async def containers_by_app(
        self, account: Account, app_id: str | None = None
    ) -> dict[str, list[Json]]:
        extra = f"{L.APP}={app_id}" if app_id else L.APP
        containers = await self.client.containers(L.namespace_filter(account.namespace, extra))
        grouped: dict[str, list[Json]] = defaultdict(list)
        for container in containers:
            grouped[container["Labels"][L.APP]].append(container)
        return grouped

    async def _image_defaults(self, image_ids: Iterable[str]) -> dict[str, Json]:
        """Each image's own config, to tell what a container was given from what it inherited."""

        async def config(image_id: str) -> tuple[str, Json]:
            try:
                found = await self.client.request(
                    "GET", self.client.image_path(image_id), what="image"
                )
            except NotFound:
                return image_id, {}
            return image_id, found.get("Config") or {}

        return dict(await asyncio.gather(*(config(i) for i in set(image_ids))))

    async def _to_apps(self, grouped: dict[str, list[Json]]) -> list[App]:
        models: dict[str, Json] = {}
        for app_id, containers in grouped.items():
            definition = [c for c in containers if c["Labels"].get(L.ROLE) == L.ROLE_DEFINITION]
            newest = max(definition or containers, key=lambda c: c.get("Created", 0))
            models[app_id] = newest
        inspected = {
            c["Config"]["Labels"][L.APP]: c
            for c in await self._inspect_all(m["Id"] for m in models.values())
        }
        defaults = await self._image_defaults(c.get("Image", "") for c in inspected.values())
        apps = []
        for app_id, containers in grouped.items():
            model = inspected.get(app_id)
            if model is None:
                continue
            instances = [c for c in containers if c["Labels"].get(L.ROLE) != L.ROLE_DEFINITION]
            wanted = model["Config"]["Labels"].get(L.INSTANCES)
            desired = int(wanted) if wanted is not None else len(instances)
            app = containers_to_app(
                cluster=self.cluster,
                app_id=app_id,
                model=model,
                instances=instances,
                desired=desired,
            )
            image_config = defaults.get(model.get("Image", ""), {})
            if app.cmd == (image_config.get("Entrypoint") or None):
                app.cmd = None
            if app.args == (image_config.get("Cmd") or None):
                app.args = None
            inherited = set(image_config.get("Env") or [])
            app.env = {k: v for k, v in app.env.items() if f"{k}={v}" not in inherited}
            apps.append(app)
        return apps

    async def apps(self, account: Account) -> list[App]:
        return await self._to_apps(await self.containers_by_app(account))

    async def app(self, account: Account, app_id: str) -> App:
        found = await self._to_apps(await self.containers_by_app(account, app_id))
        if not found:
            raise NotFound(f"app '{app_id}' not found", cluster=self.cluster)
        return found[0]

    async def versions(self, account: Account, app_id: str) -> list[AppVersion]:
        """The spec that runs, alone: an engine keeps no history, so the older ones are
        Asgard's record of what it deployed. The engine does not say since when it runs:
        the app's time is when it was made, whatever changed it since."""
        return [version_of(await self.app(account, app_id))]

    async def tasks(self, account: Account, app_id: str) -> list[Task]:
        grouped = await self.containers_by_app(account, app_id)
        if app_id not in grouped:
            raise NotFound(f"app '{app_id}' not found", cluster=self.cluster)
        info = await self.client.info()
        return sorted(
            (
                container_to_task(
                    c,
                    cluster=self.cluster,
                    app_id=app_id,
                    agent_id=info["ID"],
                    host=str(info.get("Name", info["ID"])),
                )
                for c in grouped[app_id]
                if c["Labels"].get(L.ROLE) != L.ROLE_DEFINITION
            ),
            key=lambda t: t.id,
        )

    def _instances(self, grouped: dict[str, list[Json]], app_id: str) -> list[Json]:
        return [c for c in grouped.get(app_id, []) if c["Labels"].get(L.ROLE) != L.ROLE_DEFINITION]

    async def running_containers(self, account: Account, app_id: str) -> tuple[list[str], int]:
        grouped = await self.containers_by_app(account, app_id)
        if app_id not in grouped:
            await self.app(account, app_id)  # raises NotFound
        running = [c["Id"] for c in self._instances(grouped, app_id) if c.get("State") == "running"]
        return running, 0

    async def logs(self, account: Account, app_id: str, *, tail: int, follow: bool) -> LogStream:
        instances = self._instances(await self.containers_by_app(account, app_id), app_id)
        if not instances:
            await self.app(account, app_id)  # NotFound for an unknown app
            return merge({})
        streams = {}
        for container in instances:
            inspected = await self.client.inspect_container(container["Id"])
            tty = bool(inspected.get("Config", {}).get("Tty"))
            streams[container["Id"][:12]] = log_stream(
                self.client,
                self.client.path("containers", container["Id"], "logs"),
                tail=tail,
                follow=follow,
                tty=tty,
            )
        return merge(streams)

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
        """A task is one of the app's containers, named by its full id as ``/tasks`` lists it."""
        instances = self._instances(await self.containers_by_app(account, app_id), app_id)
        if not instances:
            await self.app(account, app_id)  # NotFound for an unknown app
        if task_id not in {c["Id"] for c in instances}:
            raise unknown_task(app_id, task_id, self.cluster)
        inspected = await self.client.inspect_container(task_id)
        return log_lines(
            self.client,
            self.client.path("containers", task_id, "logs"),
            task=task_id,
            tail=tail,
            since=since,
            follow=follow,
            tty=bool(inspected.get("Config", {}).get("Tty")),
        )
