"""Asgard's listings of a Kubernetes cluster made from its store, whole or a few items.

Each listing is what the backend would make of a fresh list from the API server (the
same converters, over the same records), scoped the same way: agents by the ``owner``
label, the rest by namespace. Asked for some ids, a listing makes only those items:
one pod's change costs its task, its node's agent and its Job, never a pass over every
pod. ``StoreItems`` offers that to the cache.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from asgard.backends.common import Json
from asgard.backends.feeds import ItemReader, NotCurrent, Resource
from asgard.backends.kubernetes import names as N
from asgard.backends.kubernetes.converters import node_to_agent, workload_to_app
from asgard.backends.kubernetes.job_status import is_collector, job_to_model
from asgard.backends.kubernetes.records import task_of, used_of
from asgard.backends.kubernetes.store import WORKLOADS, KubeStore, NodeSums
from asgard.models import Account, Agent, App, Job, Task

__all__ = ["StoreItems", "StoreView"]

NOTHING = NodeSums()


class StoreView:
    def __init__(self, store: KubeStore, cluster: str) -> None:
        self.store = store
        self.cluster = cluster

    def agents(self, account: Account, ids: Iterable[str] | None = None) -> list[Agent]:
        nodes = self.store.nodes
        chosen: Iterable[Json] = (
            nodes.values() if ids is None else (nodes[i] for i in ids if i in nodes)
        )
        found = []
        for node in chosen:
            meta = node["metadata"]
            if account.owner is not None and (meta.get("labels") or {}).get("owner") != (
                account.owner
            ):
                continue
            sums = self.store.sums.get(meta["name"], NOTHING)
            found.append(
                node_to_agent(
                    node,
                    cluster=self.cluster,
                    used=used_of(sums.cpu, sums.mem),
                    total_apps=len(sums.owners.get(account.namespace, ())),
                )
            )
        return found

    def workloads(
        self, account: Account, ids: Iterable[str] | None = None
    ) -> list[tuple[str, str, App]]:
        """(kind, name, app) of the namespace's workloads (those that are ``ids``)."""
        wanted = None if ids is None else set(ids)
        found = []
        for kept, kind in WORKLOADS.items():
            for name, obj in self.store.workloads[kept].get(account.namespace, {}).items():
                if wanted is None or N.app_id_of(obj) in wanted:
                    found.append((kind, name, workload_to_app(kind, obj, cluster=self.cluster)))
        return found

    def app_ids(self, namespace: str) -> dict[tuple[str, str], str]:
        """The app id of each workload of the namespace, by (kind, name)."""
        return {
            (kind, name): N.app_id_of(obj)
            for kept, kind in WORKLOADS.items()
            for name, obj in self.store.workloads[kept].get(namespace, {}).items()
        }

    def tasks(self, account: Account, ids: Iterable[str] | None = None) -> list[Task]:
        apps = self.app_ids(account.namespace)
        return [
            task_of(pod, cluster=self.cluster, app_id=apps[pod.owner])
            for pod in self.store.pods_in(account.namespace, ids)
            if pod.owner is not None and pod.owner in apps
        ]

    def jobs(self, account: Account, ids: Iterable[str] | None = None) -> list[Job]:
        kept = self.store.jobs.get(account.namespace, {})
        chosen = kept.values() if ids is None else (kept[i] for i in ids if i in kept)
        found = []
        for job in chosen:
            if is_collector(job):
                continue
            name = job["metadata"]["name"]
            pods = self.store.pods_in(
                account.namespace, self.store.by_job.get((account.namespace, name), ())
            )
            found.append(job_to_model(job, list(pods), cluster=self.cluster))
        return found


class StoreItems(ItemReader):
    """The cache's way to a few items of a scope, while the store is current."""

    def __init__(self, view: StoreView) -> None:
        self.view = view

    async def read_items(
        self, resource: Resource, account: Account, ids: frozenset[str]
    ) -> dict[str, Any]:
        if not self.view.store.current:
            raise NotCurrent(resource)
        items: list[Any]
        if resource == "agents":
            items = self.view.agents(account, ids)
        elif resource == "apps":
            items = [app for _, _, app in self.view.workloads(account, ids)]
        elif resource == "tasks":
            items = self.view.tasks(account, ids)
        else:
            items = self.view.jobs(account, ids)
        return {item.id: item for item in items}
