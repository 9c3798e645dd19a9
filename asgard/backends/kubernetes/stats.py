"""App stats from the metrics API (``metrics.k8s.io``), against what the pods asked for.

``cpu_pct`` and ``ram_pct`` are the pods' use over their limits (their requests
where no limit is set) summed over the app's pods; a pod with neither counts
against one core and its own memory use. The metrics API keeps no history of
its own (metrics-server answers with its latest sample), so the answer says
it is a sample. Clusters without the metrics API get figures of ``null`` and
a message saying so, not an error.
"""

from __future__ import annotations

from asgard.backends.common import Json
from asgard.backends.kubernetes.client import KubeClient
from asgard.backends.kubernetes.quantities import cpu_cores, mebibytes
from asgard.errors import NotFound
from asgard.models import AppStats, Resources
from asgard.models.base import pct, round_up_pct, utc_now

METRICS = ("apis", "metrics.k8s.io", "v1beta1")


def _allotted(pod: Json) -> tuple[float, float]:
    cpu = mem = 0.0
    for container in (pod.get("spec") or {}).get("containers") or []:
        resources = container.get("resources") or {}
        limits, requests = resources.get("limits") or {}, resources.get("requests") or {}
        cpu += cpu_cores(limits.get("cpu") or requests.get("cpu"))
        mem += mebibytes(limits.get("memory") or requests.get("memory"))
    return cpu, mem


async def app_stats(
    client: KubeClient, namespace: str, selector: str, pods: list[Json]
) -> AppStats:
    try:
        found = await client.request(
            "GET",
            (*METRICS, "namespaces", namespace, "pods"),
            what="pod metrics",
            params={"labelSelector": selector},
        )
    except NotFound:
        return AppStats(
            cpu_pct=None,
            ram_pct=None,
            cpu_thr_pct=None,
            source="sample",
            instances=0,
            message=f"cluster {client.cluster} has no metrics API (metrics.k8s.io, e.g. "
            "metrics-server): there are no figures to give",
        )
    allotted = {p["metadata"]["name"]: _allotted(p) for p in pods}
    used_cpu = used_mem = want_cpu = want_mem = 0.0
    sampled = 0
    for item in found.get("items") or []:
        name = (item.get("metadata") or {}).get("name")
        if name not in allotted:
            continue
        sampled += 1
        cpu = sum(
            cpu_cores((c.get("usage") or {}).get("cpu")) for c in item.get("containers") or []
        )
        mem = sum(
            mebibytes((c.get("usage") or {}).get("memory")) for c in item.get("containers") or []
        )
        cpu_allot, mem_allot = allotted[name]
        used_cpu, used_mem = used_cpu + cpu, used_mem + mem
        want_cpu += cpu_allot or 1.0
        want_mem += mem_allot or mem
    return AppStats(
        cpu_pct=round_up_pct(pct(used_cpu, want_cpu)) if sampled else 0.0,
        ram_pct=pct(used_mem, want_mem) if sampled else 0.0,
        cpu_thr_pct=None,
        source="sample",
        sampled_at=utc_now(),
        instances=sampled,
        message=f"the metrics API's latest sample of {sampled} pod(s); it keeps no history",
    )


async def measure_nodes(client: KubeClient) -> dict[str, Resources]:
    """Each node's use as the metrics API last sampled it (``NodeMetrics``); ``{}`` on a
    cluster without the metrics API, which is no failure of the cluster."""
    try:
        found = await client.request("GET", (*METRICS, "nodes"), what="node metrics")
    except NotFound:
        return {}
    measured: dict[str, Resources] = {}
    for item in found.get("items") or []:
        name, usage = (item.get("metadata") or {}).get("name"), item.get("usage") or {}
        if name:
            measured[str(name)] = Resources(
                cpus=cpu_cores(usage.get("cpu")), mem=mebibytes(usage.get("memory"))
            )
    return measured
