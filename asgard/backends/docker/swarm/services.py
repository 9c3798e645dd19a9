"""A Swarm's app services, read: the services labelled with the account's namespace and
an app id, each with its tasks."""

from __future__ import annotations

from collections import defaultdict

from asgard.backends.common import Json
from asgard.backends.docker import labels as L
from asgard.backends.docker.client import DockerClient
from asgard.backends.docker.converters import service_to_app
from asgard.errors import NotFound
from asgard.models import Account, App

__all__ = ["AppServices"]


class AppServices:
    """Reads the apps of a Swarm from their services."""

    def __init__(self, client: DockerClient) -> None:
        self.client = client
        self.cluster = client.cluster

    async def of(self, account: Account) -> list[Json]:
        """The account's app services."""
        services = await self.client.services(L.namespace_filter(account.namespace, L.APP))
        return [s for s in services if (s.get("Spec", {}).get("Labels") or {}).get(L.APP)]

    async def service(self, account: Account, app_id: str) -> Json:
        """The app's service; ``NotFound`` when the account has no such app."""
        services = await self.client.services(
            L.namespace_filter(account.namespace, f"{L.APP}={app_id}")
        )
        if not services:
            raise NotFound(f"app '{app_id}' not found", cluster=self.cluster)
        return services[0]

    async def apps_by_service(self, account: Account) -> dict[str, App]:
        """The account's apps, by the id of their service."""
        services = await self.of(account)
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

    async def app(self, account: Account, app_id: str) -> App:
        service = await self.service(account, app_id)
        tasks = await self.client.tasks({"service": [service["ID"]]})
        return service_to_app(service, cluster=self.cluster, tasks=tasks)
