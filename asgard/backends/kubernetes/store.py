"""The objects of one Kubernetes cluster, as its watches leave them (an informer's store).

The feed lists each watched resource into the store, then applies every watch event to
it; the backends' listings are answered from it while it is current. Beside the
objects it keeps, event by event, what the listings would otherwise sum over every pod:
each node's requested CPU and memory, and which workloads of each namespace have pods
there. ``apply`` answers with the ``Signal`` that names what the event changed (that
pod's task, its node's agent, its Job), so the cache updates those items alone.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Final, Literal, TypeVar

from asgard.backends.common import Json
from asgard.backends.feeds import Resource, Signal
from asgard.backends.kubernetes import names as N
from asgard.backends.kubernetes.records import PodRecord, node_record, object_record, pod_record

__all__ = ["KINDS", "WORKLOADS", "Kept", "KubeStore", "NodeSums"]

Kept = Literal["nodes", "pods", "deployments", "statefulsets", "daemonsets", "jobs"]
KINDS: Final[tuple[Kept, ...]] = (
    "nodes",
    "pods",
    "deployments",
    "statefulsets",
    "daemonsets",
    "jobs",
)
WORKLOADS: Final[dict[Kept, str]] = {
    "deployments": "Deployment",
    "statefulsets": "StatefulSet",
    "daemonsets": "DaemonSet",
}
"""The kept resources that are apps, with the kind an owner reference names."""
RELISTED: Final[dict[Kept, frozenset[Resource]]] = {
    "nodes": frozenset({"agents"}),
    "pods": frozenset({"tasks", "agents", "jobs"}),
    "deployments": frozenset({"apps", "tasks"}),
    "statefulsets": frozenset({"apps", "tasks"}),
    "daemonsets": frozenset({"apps", "tasks"}),
    "jobs": frozenset({"jobs"}),
}
"""What may have changed anywhere when a resource was listed again."""

ByNamespace = dict[str, dict[str, Any]]
K = TypeVar("K")


@dataclass
class NodeSums:
    """What the pods bound to a node that have not ended request, and whose they are."""

    cpu: int = 0
    mem: int = 0
    owners: dict[str, Counter[tuple[str, str]]] = field(default_factory=dict)
    """Pods by owning workload, by namespace: ``total_apps`` is the owners of one."""

    def add(self, pod: PodRecord, sign: int) -> None:
        self.cpu += sign * pod.units[0]
        self.mem += sign * pod.units[1]
        if pod.owner is None:
            return
        counted = self.owners.setdefault(pod.namespace, Counter())
        counted[pod.owner] += sign
        if counted[pod.owner] <= 0:
            del counted[pod.owner]
            if not counted:
                del self.owners[pod.namespace]


def _index(index: dict[K, set[str]], key: K, name: str, sign: int) -> None:
    names = index.setdefault(key, set())
    if sign > 0:
        names.add(name)
        return
    names.discard(name)
    if not names:
        del index[key]


def _keyed(obj: Json) -> tuple[str, str]:
    meta = obj.get("metadata") or {}
    return str(meta.get("namespace") or ""), str(meta.get("name") or "")


class KubeStore:
    def __init__(self) -> None:
        self.nodes: dict[str, Json] = {}
        self.pods: ByNamespace = {}
        self.workloads: dict[Kept, ByNamespace] = {kind: {} for kind in WORKLOADS}
        self.jobs: ByNamespace = {}
        self.sums: dict[str, NodeSums] = {}
        self.by_owner: dict[tuple[str, str, str], set[str]] = {}
        """Pod names by (namespace, owner kind, owner name)."""
        self.by_job: dict[tuple[str, str], set[str]] = {}
        """Pod names by (namespace, Job)."""
        self.current = False
        """Every resource is listed and its watch follows it: the listings may come from here."""
        self._filling: asyncio.Event | None = None

    # being filled

    def begin(self) -> None:
        """The feed starts listing: reads wait for it rather than list the same alongside."""
        self.current = False
        self._filling = asyncio.Event()

    def filled(self) -> None:
        self.current = True
        if self._filling is not None:
            self._filling.set()

    def stopped(self) -> None:
        """The feed broke or ended: nothing here can be trusted to be current."""
        self.current = False
        if self._filling is not None:
            self._filling.set()
            self._filling = None

    async def settled(self) -> bool:
        """Whether the listings can come from here, once the feed filling it is done."""
        if not self.current and self._filling is not None:
            await self._filling.wait()
        return self.current

    # what the feed keeps

    @staticmethod
    def keep(kind: Kept, obj: Json) -> Any:
        """What is kept of one listed or watched object."""
        if kind == "pods":
            return pod_record(obj)
        if kind == "nodes":
            return node_record(obj)
        return object_record(obj)

    def replace(self, kind: Kept, kept: Iterable[Any]) -> Signal:
        """A fresh list of ``kind``: everything of it may have changed."""
        if kind == "nodes":
            self.nodes = {str(n["metadata"]["name"]): n for n in kept}
        elif kind == "pods":
            self.pods, self.sums, self.by_owner, self.by_job = {}, {}, {}, {}
            for pod in kept:
                self._put_pod(None, pod)
        else:
            table: ByNamespace = {}
            for obj in kept:
                namespace, name = _keyed(obj)
                table.setdefault(namespace, {})[name] = obj
            if kind == "jobs":
                self.jobs = table
            else:
                self.workloads[kind] = table
        return Signal(RELISTED[kind])

    def apply(self, kind: Kept, change: str, obj: Json) -> Signal:
        """One watch event (ADDED, MODIFIED, DELETED); what it changed."""
        gone = change == "DELETED"
        if kind == "pods":
            return self._pod_event(None if gone else pod_record(obj), _keyed(obj))
        if kind == "nodes":
            name = _keyed(obj)[1]
            if gone:
                self.nodes.pop(name, None)
            else:
                self.nodes[name] = node_record(obj)
            return Signal(frozenset({"agents"}), None, {"agents": frozenset({name})})
        namespace, name = _keyed(obj)
        table = self.jobs if kind == "jobs" else self.workloads[kind]
        old = table.get(namespace, {}).get(name)
        if gone:
            table.get(namespace, {}).pop(name, None)
        else:
            table.setdefault(namespace, {})[name] = object_record(obj)
        if kind == "jobs":
            return Signal(frozenset({"jobs"}), namespace, {"jobs": frozenset({name})})
        apps = {N.app_id_of(o) for o in (old, obj) if o is not None}
        tasks = self.by_owner.get((namespace, WORKLOADS[kind], name), set())
        return Signal(
            frozenset({"apps", "tasks"}),
            namespace,
            {"apps": frozenset(apps), "tasks": frozenset(tasks)},
        )

    # pods and what is summed of them

    def _pod_event(self, new: PodRecord | None, key: tuple[str, str]) -> Signal:
        namespace, name = key
        old = self.pods.get(namespace, {}).get(name)
        self._put_pod(old, new)
        if new is None:
            self.pods.get(namespace, {}).pop(name, None)
        nodes = {p.node for p in (old, new) if p is not None and p.node}
        jobs = {p.job for p in (old, new) if p is not None and p.job}
        return Signal(
            frozenset({"tasks", "agents", "jobs"}),
            namespace,
            {
                "tasks": frozenset({name}),
                "agents": frozenset(n for n in nodes if n),
                "jobs": frozenset(j for j in jobs if j),
            },
        )

    def _put_pod(self, old: PodRecord | None, new: PodRecord | None) -> None:
        """Replace ``old`` by ``new`` in the pods and every index."""
        for pod, sign in ((old, -1), (new, 1)):
            if pod is None:
                continue
            if pod.node and not pod.ended:
                self.sums.setdefault(pod.node, NodeSums()).add(pod, sign)
            if pod.owner is not None:
                _index(self.by_owner, (pod.namespace, *pod.owner), pod.name, sign)
            if pod.job is not None:
                _index(self.by_job, (pod.namespace, pod.job), pod.name, sign)
        if new is not None:
            self.pods.setdefault(new.namespace, {})[new.name] = new

    def pods_in(self, namespace: str, names: Iterable[str] | None = None) -> Iterator[PodRecord]:
        kept = self.pods.get(namespace, {})
        if names is None:
            yield from kept.values()
            return
        for name in names:
            pod = kept.get(name)
            if pod is not None:
                yield pod
