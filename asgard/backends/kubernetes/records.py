"""What Asgard keeps of each Kubernetes object it follows: only what its converters read.

A pod becomes a ``PodRecord``: its place (namespace, node), its requests in exact
units (so that per-node sums added and taken away event by event stay exactly what a
sum over a fresh list would be), its owner, and the fields a task and a job's exit are
made of. 150,000 pods as parsed JSON would hold gigabytes; as records, with the store's
indexes, about 600 bytes a pod. Nodes, workloads and jobs are few, and are kept as JSON
without what no converter reads (``managedFields``, the last applied configuration).

Live reads go through the same records (``pod_record``), so a list from the API server
and the store answer alike, to the last bit of a float.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Final, NamedTuple

from asgard.backends.common import Json, parse_time
from asgard.backends.kubernetes.converters import owning_workload, pod_state
from asgard.backends.kubernetes.quantities import MiB, parse_quantity
from asgard.models import Resources, Task
from asgard.models.task import TaskState

__all__ = [
    "ENDED",
    "PodRecord",
    "Units",
    "job_exit",
    "node_record",
    "object_record",
    "pod_record",
    "pod_units",
    "task_of",
    "used_of",
]

ENDED: Final = frozenset({"Succeeded", "Failed"})
NANO: Final = 10**9
LAST_APPLIED: Final = "kubectl.kubernetes.io/last-applied-configuration"

Units = tuple[int, int]
"""Requests in exact units: nanocores and bytes."""


class PodRecord(NamedTuple):
    """A tuple: the smallest and quickest to make of Python's records, 150,000 times."""

    namespace: str
    name: str
    node: str | None
    units: Units
    owner: tuple[str, str] | None
    """(kind, name) of the workload that owns it (``owning_workload``)."""
    phase: str
    job: str | None
    """Its ``job-name`` label: the Job it runs for."""
    created: str
    state: TaskState
    message: str | None
    host: str | None
    started_at: datetime | None
    ports: tuple[int, ...]
    exit: tuple[int, bool] | None
    """The exit code of its first container that ended, and whether it was OOM."""

    @property
    def ended(self) -> bool:
        return self.phase in ENDED


def _text(value: object) -> str | None:
    """Interned: the same namespace, node, phase or time is one string for every pod."""
    return sys.intern(value) if isinstance(value, str) else None


@lru_cache(maxsize=8192)
def _time(text: str | None) -> datetime | None:
    return parse_time(text)


@lru_cache(maxsize=4096)
def _parsed(value: str | int | float, scale: int) -> int:
    return int(parse_quantity(value) * scale)


def _amount(value: object, scale: int) -> int:
    """A quantity in exact units; the same few texts (``100m``, ``128Mi``) are parsed once."""
    if value is None or value == "":
        return 0
    if not isinstance(value, str | int | float):
        raise ValueError(f"not a Kubernetes quantity: {value!r}")
    return _parsed(value, scale)


def pod_units(pod: Json) -> Units:
    """What ``kubectl describe node`` counts for a pod: the sum of its containers' requests,
    or its largest init container's if larger, plus the pod overhead."""
    spec = pod.get("spec") or {}

    def requests(container: Json) -> Units:
        wanted = (container.get("resources") or {}).get("requests") or {}
        return _amount(wanted.get("cpu"), NANO), _amount(wanted.get("memory"), 1)

    main = [requests(c) for c in spec.get("containers") or []]
    init = [requests(c) for c in spec.get("initContainers") or []]
    cpu = max(sum(c for c, _ in main), max((c for c, _ in init), default=0))
    mem = max(sum(m for _, m in main), max((m for _, m in init), default=0))
    overhead = spec.get("overhead") or {}
    return cpu + _amount(overhead.get("cpu"), NANO), mem + _amount(overhead.get("memory"), 1)


def used_of(cpu: int, mem: int) -> Resources:
    """Summed units as Asgard's resources (cores, MiB)."""
    return Resources.model_construct(
        cpus=float(Decimal(cpu) / NANO), mem=float(Decimal(mem) / MiB), disk=0.0, gpus=0.0
    )


def _exit(pod: Json) -> tuple[int, bool] | None:
    for container in (pod.get("status") or {}).get("containerStatuses") or []:
        ended = (container.get("state") or {}).get("terminated") or (
            container.get("lastState") or {}
        ).get("terminated")
        if ended:
            return int(ended.get("exitCode", -1)), ended.get("reason") == "OOMKilled"
    return None


def pod_record(pod: Json) -> PodRecord:
    meta, spec, status = pod.get("metadata") or {}, pod.get("spec") or {}, pod.get("status") or {}
    state, message = pod_state(pod)
    node = _text(spec.get("nodeName")) or None
    owner = owning_workload(pod)
    return PodRecord(
        namespace=_text(meta.get("namespace")) or "",
        name=str(meta.get("name") or ""),
        node=node,
        units=pod_units(pod),
        owner=None if owner is None else (sys.intern(owner[0]), sys.intern(owner[1])),
        phase=_text(status.get("phase")) or "Pending",
        job=_text((meta.get("labels") or {}).get("job-name")),
        created=_text(meta.get("creationTimestamp")) or "",
        state=state,
        message=message,
        host=node or _text(status.get("hostIP")),
        started_at=_time(status.get("startTime")),
        ports=tuple(
            sorted(
                {
                    int(p["hostPort"])
                    for c in spec.get("containers") or []
                    for p in c.get("ports") or []
                    if p.get("hostPort")
                }
            )
        ),
        exit=_exit(pod),
    )


def node_record(node: Json) -> Json:
    """What ``node_to_agent`` reads of a node."""
    meta, spec, status = (
        node.get("metadata") or {},
        node.get("spec") or {},
        node.get("status") or {},
    )
    kept_status: Json = {
        "allocatable": status.get("allocatable") or {},
        "conditions": [
            {"type": c.get("type"), "status": c.get("status")}
            for c in status.get("conditions") or []
        ],
        "nodeInfo": {"kubeletVersion": (status.get("nodeInfo") or {}).get("kubeletVersion")},
    }
    return {
        "metadata": {"name": meta.get("name"), "labels": meta.get("labels") or {}},
        "spec": {"unschedulable": spec.get("unschedulable", False)},
        "status": kept_status,
    }


def object_record(obj: Json) -> Json:
    """A workload or a Job without what no converter reads, and that can be the most of it."""
    meta = dict(obj.get("metadata") or {})
    meta.pop("managedFields", None)
    annotations = meta.get("annotations")
    if annotations and LAST_APPLIED in annotations:
        meta["annotations"] = {k: v for k, v in annotations.items() if k != LAST_APPLIED}
    return {**obj, "metadata": meta}


def task_of(pod: PodRecord, *, cluster: str, app_id: str) -> Task:
    return Task.model_construct(
        id=pod.name,
        cluster=cluster,
        app_id=app_id,
        agent_id=pod.node,
        host=pod.host,
        state=pod.state,
        started_at=pod.started_at,
        ports=list(pod.ports),
        message=pod.message,
    )


def job_exit(pods: Iterable[PodRecord]) -> tuple[int | None, bool]:
    """The exit code of the newest pod's first container that ended, and whether it was OOM."""
    for pod in reversed(sorted(pods, key=lambda p: (p.created, p.name))):
        if pod.exit is not None:
            return pod.exit
    return None, False
