"""An engine's app containers, read: each app's *definition* and its *instances*.

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

from asgard.backends.common import Json
from asgard.backends.docker import labels as L
from asgard.backends.docker.client import DockerClient
from asgard.backends.docker.converters import containers_to_app
from asgard.errors import NotFound
from asgard.models import Account, App

__all__ = ["AppContainers", "is_instance"]

INSPECT_CONCURRENCY = 16


def is_instance(container: Json) -> bool:
    """An instance of an app, not its definition."""
    return bool(container["Labels"].get(L.ROLE) != L.ROLE_DEFINITION)


class AppContainers:
    """Reads the apps of an engine from their containers."""

    def __init__(self, client: DockerClient) -> None:
        self.client = client
        self.cluster = client.cluster

    async def inspect_all(self, ids: Iterable[str]) -> list[Json]:
        """Each container inspected, a few at a time; those removed meanwhile left out."""
        gate = asyncio.Semaphore(INSPECT_CONCURRENCY)

        async def inspect(container_id: str) -> Json | None:
            async with gate:
                try:
                    return await self.client.inspect_container(container_id)
                except NotFound:  # removed between list and inspect
                    return None

        found = await asyncio.gather(*(inspect(i) for i in ids))
        return [c for c in found if c is not None]

    async def by_app(self, account: Account, app_id: str | None = None) -> dict[str, list[Json]]:
        """The account's app containers (of one app, or all), grouped by app id."""
        extra = f"{L.APP}={app_id}" if app_id else L.APP
        containers = await self.client.containers(L.namespace_filter(account.namespace, extra))
        grouped: dict[str, list[Json]] = defaultdict(list)
        for container in containers:
            grouped[container["Labels"][L.APP]].append(container)
        return grouped

    async def instances(self, account: Account, app_id: str) -> list[Json]:
        """The app's instance containers, as the engine lists them."""
        grouped = await self.by_app(account, app_id)
        return [c for c in grouped.get(app_id, []) if is_instance(c)]

    async def parts(self, account: Account, app_id: str) -> tuple[Json | None, list[Json]]:
        """The app's definition (None for containers labelled by hand) and its instances,
        oldest first."""
        containers = (await self.by_app(account, app_id)).get(app_id, [])
        definition = next((c for c in containers if not is_instance(c)), None)
        instances = [c for c in containers if is_instance(c)]
        return definition, sorted(instances, key=lambda c: c.get("Created", 0))

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

    async def to_apps(self, grouped: dict[str, list[Json]]) -> list[App]:
        models: dict[str, Json] = {}
        for app_id, containers in grouped.items():
            definition = [c for c in containers if not is_instance(c)]
            newest = max(definition or containers, key=lambda c: c.get("Created", 0))
            models[app_id] = newest
        inspected = {
            c["Config"]["Labels"][L.APP]: c
            for c in await self.inspect_all(m["Id"] for m in models.values())
        }
        defaults = await self._image_defaults(c.get("Image", "") for c in inspected.values())
        apps = []
        for app_id, containers in grouped.items():
            model = inspected.get(app_id)
            if model is None:
                continue
            instances = [c for c in containers if is_instance(c)]
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
        return await self.to_apps(await self.by_app(account))

    async def app(self, account: Account, app_id: str) -> App:
        found = await self.to_apps(await self.by_app(account, app_id))
        if not found:
            raise NotFound(f"app '{app_id}' not found", cluster=self.cluster)
        return found[0]
