"""The workloads of a namespace that are apps: Deployments, StatefulSets, DaemonSets.

All of them come from the cluster's store while it is current, else from the API server;
one of them (``find``) always from the API server, as writes need it as it is now."""

from __future__ import annotations

import asyncio

from asgard.backends.common import Json, Segments
from asgard.backends.kubernetes import names as N
from asgard.backends.kubernetes.client import KubeClient
from asgard.backends.kubernetes.converters import workload_to_app
from asgard.backends.kubernetes.views import StoreView
from asgard.errors import NotFound
from asgard.models import Account, App

PLURAL = {"Deployment": "deployments", "StatefulSet": "statefulsets", "DaemonSet": "daemonsets"}


def workload_path(namespace: str, kind: str, name: str | None = None) -> Segments:
    base = ("apis", "apps", "v1", "namespaces", namespace, PLURAL[kind])
    return (*base, name) if name else base


class WorkloadReader:
    def __init__(self, client: KubeClient, view: StoreView) -> None:
        self.client = client
        self.cluster = client.cluster
        self.view = view

    async def all(self, account: Account) -> list[tuple[str, str, App]]:
        """(kind, name, app) of every workload of the account's namespace."""
        if await self.view.store.settled():
            return self.view.workloads(account)
        lists = await asyncio.gather(
            *(
                self.client.list_all(
                    workload_path(account.namespace, kind), what=f"list {PLURAL[kind]}"
                )
                for kind in PLURAL
            )
        )
        return [
            (kind, obj["metadata"]["name"], workload_to_app(kind, obj, cluster=self.cluster))
            for kind, (objects, _) in zip(PLURAL, lists, strict=True)
            for obj in objects
        ]

    async def find(self, account: Account, app_id: str) -> tuple[str, Json]:
        """The workload that is this app; ``NotFound`` when none of its kinds has it."""
        name = N.object_name(app_id)
        for kind in PLURAL:
            try:
                found = await self.client.request(
                    "GET", workload_path(account.namespace, kind, name), what=f"app {app_id}"
                )
            except NotFound:
                continue
            if N.app_id_of(found) == app_id:
                return kind, found
        raise NotFound(f"app '{app_id}' not found", cluster=self.cluster)
