"""Apps on a single engine: labelled containers, changed by Asgard as a Swarm would.

An app is its definition container and its instance containers (``containers.py``,
``instances.py``). Changes roll (``asgard.backends.rollout``): each instance is replaced
by starting its successor first, so an app never drops to zero running instances; a
change that fails half way is undone, and a create that fails removes what it made:
nothing is left behind. One change of an app runs at a time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

from asgard.backends.common import Json, app_taken
from asgard.backends.contract import LogLines, LogStream
from asgard.backends.docker.apps import DockerApps
from asgard.backends.docker.client import DockerClient
from asgard.backends.docker.converters import container_to_task
from asgard.backends.docker.engine.containers import AppContainers
from asgard.backends.docker.engine.instances import AppInstances
from asgard.backends.docker.images import ensure_image
from asgard.backends.docker.logs import log_lines, log_stream
from asgard.backends.docker.specs import BASELINE, Hardening
from asgard.backends.log_lines import unknown_task
from asgard.backends.log_streams import merge
from asgard.backends.rollout import AppLocks, deploy, launch, patched, roll, unmet
from asgard.errors import InvalidValue, NotFound
from asgard.models import Account, App, AppPatch, AppSpec, AppVersion, Task
from asgard.models.version import spec_of, version_of

__all__ = ["EngineApps"]


class EngineApps(DockerApps):
    def __init__(self, client: DockerClient, hardening: Hardening = BASELINE) -> None:
        super().__init__(client)
        self.containers = AppContainers(client)
        self.hardening = hardening
        self.locks = AppLocks(self.cluster)

    # reading

    async def list_apps(self, account: Account) -> list[App]:
        return await self.containers.apps(account)

    async def get_app(self, account: Account, app_id: str) -> App:
        return await self.containers.app(account, app_id)

    async def app_versions(self, account: Account, app_id: str) -> list[AppVersion]:
        """The spec that runs, alone: an engine keeps no history, so the older ones are
        Asgard's record of what it deployed. The engine does not say since when it runs:
        the app's time is when it was made, whatever changed it since."""
        return [version_of(await self.get_app(account, app_id))]

    async def list_tasks(self, account: Account, app_id: str) -> list[Task]:
        instances = await self._instances(account, app_id)
        host = await self.client.host()
        return sorted(
            (
                container_to_task(
                    c, cluster=self.cluster, app_id=app_id, agent_id=host.agent_id, host=host.name
                )
                for c in instances
            ),
            key=lambda t: t.id,
        )

    async def _instances(self, account: Account, app_id: str) -> list[Json]:
        """The app's instance containers; ``NotFound`` for an unknown app."""
        definition, instances = await self.containers.parts(account, app_id)
        if definition is None and not instances:
            raise NotFound(f"app '{app_id}' not found", cluster=self.cluster)
        return instances

    async def running_containers(self, account: Account, app_id: str) -> tuple[list[str], int]:
        instances = await self._instances(account, app_id)
        return [c["Id"] for c in instances if c.get("State") == "running"], 0

    async def app_logs(
        self, account: Account, app_id: str, *, tail: int, follow: bool
    ) -> LogStream:
        streams = {}
        for container in await self._instances(account, app_id):
            inspected = await self.client.inspect_container(container["Id"])
            streams[container["Id"][:12]] = log_stream(
                self.client,
                self.client.path("containers", container["Id"], "logs"),
                tail=tail,
                follow=follow,
                tty=bool(inspected.get("Config", {}).get("Tty")),
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
        if task_id not in {c["Id"] for c in await self._instances(account, app_id)}:
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

    # changing

    async def _check(self, account: Account, spec: AppSpec) -> None:
        published = [p for p in spec.ports if p.published_port]
        if published and spec.instances > 1:
            raise InvalidValue(
                "on a single engine a published port can serve one instance only",
                field="ports",
                cluster=self.cluster,
            )
        attributes = await self.client.engine_attributes()
        reason = unmet(attributes, account, spec.constraints, agent="this engine")
        if reason:
            raise InvalidValue(reason, field="constraints", cluster=self.cluster)
        await ensure_image(self.client, spec.image)

    def _instances_of(self, account: Account) -> AppInstances:
        return AppInstances(self.client, account, self.hardening)

    async def create_app(self, account: Account, spec: AppSpec) -> App:
        async with self.locks.change(account.namespace, spec.id):
            definition, instances = await self.containers.parts(account, spec.id)
            if definition is not None or instances:
                raise app_taken(spec.id, self.cluster)
            await self._check(account, spec)
            made = self._instances_of(account)
            written = await made.write_definition(spec, None)
            try:
                await launch(made, [], spec, spec.instances)
            except BaseException:
                await asyncio.gather(self.client.remove_container(written), return_exceptions=True)
                raise
        return await self.get_app(account, spec.id)

    async def update_app(self, account: Account, app_id: str, patch: AppPatch) -> App:
        async with self.locks.change(account.namespace, app_id):
            await self._deploy(account, app_id, lambda current: patched(current, patch))
        return await self.get_app(account, app_id)

    async def rollback_app(self, account: Account, app_id: str, version: AppVersion) -> App:
        """Deploy an earlier spec again, as an update would; refused while another change
        of the app rolls its instances (``AppLocks``)."""
        target = version.spec.model_copy(update={"cluster": self.cluster, "id": app_id})
        async with self.locks.rollback(account.namespace, app_id):
            await self._deploy(account, app_id, lambda _: target)
        return await self.get_app(account, app_id)

    async def _deploy(
        self, account: Account, app_id: str, wanted_from: Callable[[AppSpec], AppSpec]
    ) -> None:
        current = spec_of(await self.get_app(account, app_id))
        definition, instances = await self.containers.parts(account, app_id)
        wanted = wanted_from(current)
        await self._check(account, wanted)
        made = self._instances_of(account)
        await deploy(made, [c["Id"] for c in instances], current, wanted)
        await made.write_definition(wanted, definition)

    async def restart_app(self, account: Account, app_id: str) -> App:
        async with self.locks.change(account.namespace, app_id):
            current = spec_of(await self.get_app(account, app_id))
            definition, instances = await self.containers.parts(account, app_id)
            made = self._instances_of(account)
            await roll(made, [c["Id"] for c in instances], current, current)
            if definition is None:
                await made.write_definition(current, None)
        return await self.get_app(account, app_id)

    async def delete_app(self, account: Account, app_id: str) -> None:
        async with self.locks.change(account.namespace, app_id):
            definition, instances = await self.containers.parts(account, app_id)
            if definition is None and not instances:
                raise NotFound(f"app '{app_id}' not found", cluster=self.cluster)
            made = self._instances_of(account)
            await asyncio.gather(*(made.retire(c["Id"]) for c in instances))
            if definition is not None:
                await self.client.remove_container(definition["Id"])
