"""Changing apps on a Swarm: services are created, updated (with their current version),
force-updated to restart, and removed until no container of theirs is left."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

from asgard.backends.common import Json, app_taken
from asgard.backends.docker import labels as L
from asgard.backends.docker.client import DockerClient
from asgard.backends.docker.images import ensure_image
from asgard.backends.docker.specs import (
    BASELINE,
    Hardening,
    env_list,
    object_name,
    service_spec,
    swarm_resources,
)
from asgard.backends.docker.swarm import SwarmReader
from asgard.errors import ClusterFailure, Conflict, NotFound
from asgard.models import Account, App, AppPatch, AppSpec

GONE_POLL_S = 0.2
VERSION_RETRIES = 3


class SwarmDeployer:
    def __init__(
        self, client: DockerClient, reader: SwarmReader, hardening: Hardening = BASELINE
    ) -> None:
        self.client = client
        self.reader = reader
        self.hardening = hardening

    async def create(self, account: Account, spec: AppSpec) -> App:
        try:
            await self.reader.app(account, spec.id)
        except NotFound:
            pass
        else:
            raise app_taken(spec.id, self.client.cluster)
        await ensure_image(self.client, spec.image)
        name = object_name(account.namespace, spec.id)
        try:
            await self.client.create_service(service_spec(account, spec, name, self.hardening))
        except Conflict:
            raise Conflict(
                f"the service name '{name}' is taken on this Swarm",
                field="id",
                cluster=self.client.cluster,
            ) from None
        return await self.reader.app(account, spec.id)

    async def _update(self, account: Account, app_id: str, change: Any) -> App:
        """Read the service, change its spec, write it back with the version read.

        A concurrent change makes the engine refuse the stale version; read again then."""
        for attempt in range(VERSION_RETRIES):
            service = await self.reader.service(account, app_id)
            spec = copy.deepcopy(service["Spec"])
            change(spec)
            try:
                await self.client.update_service(service["ID"], service["Version"]["Index"], spec)
                break
            except (Conflict, ClusterFailure) as exc:
                stale = isinstance(exc, Conflict) or "out of sequence" in exc.msg
                if not stale or attempt == VERSION_RETRIES - 1:
                    raise
        return await self.reader.app(account, app_id)

    async def update(self, account: Account, app_id: str, patch: AppPatch) -> App:
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

    async def redeploy(self, account: Account, app_id: str, spec: AppSpec) -> App:
        """Write the whole spec of an earlier version, as an update of the service (the
        Swarm rolls its tasks as for any update; its own rollback knows one spec only)."""
        await ensure_image(self.client, spec.image)
        target = spec.model_copy(update={"cluster": self.client.cluster, "id": app_id})

        def change(current: Json) -> None:
            fresh = service_spec(account, target, current["Name"], self.hardening)
            current.clear()
            current.update(fresh)

        return await self._update(account, app_id, change)

    async def restart(self, account: Account, app_id: str) -> App:
        def change(spec: Json) -> None:
            template = spec["TaskTemplate"]
            template["ForceUpdate"] = int(template.get("ForceUpdate", 0)) + 1

        return await self._update(account, app_id, change)

    async def delete(self, account: Account, app_id: str) -> None:
        """Remove the service, then wait until its containers are gone too."""
        service = await self.reader.service(account, app_id)
        await self.client.remove_service(service["ID"])
        filters = {"label": [f"com.docker.swarm.service.id={service['ID']}"]}
        while True:  # the engine announces no "containers gone" event worth waiting on
            if not await self.client.containers(filters):
                return
            await asyncio.sleep(GONE_POLL_S)
