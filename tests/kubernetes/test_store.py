"""The Kubernetes cache keeps the cluster's objects and applies each watch event to them.

Against the emulator over HTTP: a change to one pod updates that pod's task and its
node's sums with no list sent to the API server (counted in the emulator's request
log), deletions are told, an expired watch version relists once, a node's allocatable
shows, and a burst of changes is applied in a few passes. After each, what the cache
holds is what a cluster without a cache reads live from the same emulator: the deltas
and a fresh list agree.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from asgard.backends.cache_entries import Scope
from asgard.backends.cluster import Cluster
from asgard.backends.contract import AgentsBackend, AppsBackend, JobsBackend
from asgard.backends.feeds import Resource
from asgard.backends.kubernetes.config import KubernetesClusterConfig
from asgard.backends.kubernetes.feed import WATCHED
from asgard.backends.orchestrator import Listing, Orchestrator
from asgard.events import Event, EventHub, Subscription
from asgard.models import Account
from tests.conftest import KubeCluster, build, emulated_api, kube_cluster
from tests.support.watching import eventually

DEV = Account(id=1, name="dev", namespace="dev")
LISTINGS: dict[Resource, Callable[..., Awaitable[Sequence[Any]]]] = {
    "agents": AgentsBackend.list_agents,
    "apps": AppsBackend.list_apps,
    "tasks": AppsBackend.list_all_tasks,
    "jobs": JobsBackend.list_jobs,
}


@dataclass
class Followed:
    """A cached cluster, a listener of the account ``dev``, and the same cluster uncached."""

    kube: KubeCluster
    events: Subscription
    live: Cluster
    heard: list[Event]

    @property
    def cluster(self) -> Cluster:
        return self.kube.cluster

    async def cached(self, resource: Resource) -> dict[str, Any]:
        found: Listing[Any] = await self.kube.orchestrator.fan_out(DEV, None, LISTINGS[resource])
        return {item.id: item.model_dump(mode="json") for item in found.items}

    async def fresh(self, resource: Resource) -> dict[str, Any]:
        """What a fresh list from the API server makes of the same cluster."""
        found: Listing[Any] = await Orchestrator([self.live]).fan_out(DEV, None, LISTINGS[resource])
        return {item.id: item.model_dump(mode="json") for item in found.items}

    def held(self, resource: Resource, item: str) -> Any:
        """The very object the cache holds for an item: a scope read again whole holds new
        ones, a scope updated by deltas keeps those of the items that did not change."""
        cache = self.cluster.cache
        assert cache is not None
        return cache.entries[Scope.of(resource, DEV)].items[item]

    async def agrees(self) -> None:
        for resource in LISTINGS:
            assert await self.cached(resource) == await self.fresh(resource), resource

    def lists_sent(self, since: int) -> list[tuple[str, dict[str, str]]]:
        """Lists of pods or nodes the API server was asked for since the ``since``-th
        request (watches are not lists)."""
        return [
            (path, query)
            for method, path, query in self.kube.emulator.requests_log[since:]
            if method == "GET"
            and "watch" not in query
            and (path.endswith("/pods") or path.endswith("/nodes"))
        ]

    def drain(self) -> list[Event]:
        """Every event heard so far."""
        while not self.events.queue.empty():
            event = self.events.queue.get_nowait()
            assert event is not None, "the listener fell behind"
            self.heard.append(event)
        return self.heard

    async def hears(self, kind: str, item: str, change: str) -> Event:
        async def heard() -> Event | None:
            self.drain()
            found = [e for e in self.heard if (e.kind, e.id, e.change) == (kind, item, change)]
            return found[-1] if found else None

        event: Event = await eventually(heard, f"an event: {kind} {item} {change}", 10)
        return event


@contextlib.asynccontextmanager
async def followed() -> AsyncIterator[Followed]:
    async with emulated_api() as (emulator, url, session):
        kube = await kube_cluster(emulator, url, session, resync_s=3600)
        await kube.controllers.add_node("node-1", cpu="4", memory="8Gi")
        await kube.controllers.add_node("node-2", cpu="2", memory="4Gi")
        await deploy(kube, "web")
        live = await build(KubernetesClusterConfig(name="k8s", url=url, token="t", page_size=3))
        hub = EventHub()
        kube.orchestrator.enable_caches(hub)
        await kube.orchestrator.start()
        cache = kube.cluster.cache
        assert cache is not None
        try:
            await eventually(lambda: _true(cache.current), "the cache is current", 10)
            async with hub.subscribe(DEV) as events:  # loads every scope dev sees
                yield Followed(kube, events, live, [])
        finally:
            await kube.orchestrator.close()
            await live.close()


async def _true(value: bool) -> bool:
    return value


async def deploy(kube: KubeCluster, name: str) -> None:
    labels = {"app": name}
    await kube.controllers.call(
        "POST",
        "/apis/apps/v1/namespaces/dev/deployments",
        {
            "metadata": {"name": name, "namespace": "dev", "labels": labels},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [{"name": "c", "image": f"{name}:1"}]},
                },
            },
        },
    )


def pod(name: str, node: str, cpu: str, *, app: str = "web", phase: str = "Running") -> Any:
    return {
        "metadata": {
            "name": name,
            "namespace": "dev",
            "labels": {"app": app, "pod-template-hash": "abc"},
            "ownerReferences": [{"kind": "ReplicaSet", "name": f"{app}-abc"}],
        },
        "spec": {
            "nodeName": node,
            "containers": [{"name": "c", "resources": {"requests": {"cpu": cpu, "memory": "1Gi"}}}],
        },
        "status": {"phase": phase},
    }


@pytest.fixture
async def env() -> AsyncIterator[Followed]:
    async with followed() as found:
        yield found


async def test_a_pod_change_updates_its_task_and_its_nodes_sums_without_a_list(
    env: Followed,
) -> None:
    api = env.kube.controllers
    since = len(env.kube.emulator.requests_log)
    other = env.held("agents", "node-2")
    await api.call("POST", "/api/v1/namespaces/dev/pods", pod("web-abc-1", "node-1", "500m"))
    task = await env.hears("task", "web-abc-1", "added")
    assert (task.object or {})["agent_id"] == "node-1"
    agent = await env.hears("agent", "node-1", "modified")
    assert (agent.object or {})["used_resources"]["cpus"] == 0.5
    assert (agent.object or {})["total_apps"] == 1
    await api.call(
        "PATCH", "/api/v1/namespaces/dev/pods/web-abc-1", {"status": {"phase": "Failed"}}
    )
    failed = await env.hears("task", "web-abc-1", "modified")
    assert (failed.object or {})["state"] == "failed"
    await eventually(
        lambda: _used(env, "node-1", 0.0), "an ended pod's requests no longer count", 10
    )
    assert env.lists_sent(since) == [], "applied from the watch, not read again"
    assert not [e for e in env.drain() if e.id == "node-2"], "the other node is untouched"
    assert env.held("agents", "node-2") is other, "not even made again"
    await env.agrees()


async def _used(env: Followed, node: str, cpus: float) -> bool:
    return bool((await env.cached("agents"))[node]["used_resources"]["cpus"] == cpus)


async def test_deletions_are_told_and_leave_the_sums_as_a_fresh_list_would(
    env: Followed,
) -> None:
    api = env.kube.controllers
    for n, node in enumerate(("node-1", "node-2", "node-2")):
        await api.call("POST", "/api/v1/namespaces/dev/pods", pod(f"web-abc-{n}", node, "1"))
    await eventually(lambda: _used(env, "node-2", 2.0), "node-2 runs two pods", 10)
    since = len(env.kube.emulator.requests_log)
    await api.call("DELETE", "/api/v1/namespaces/dev/pods/web-abc-2")
    await env.hears("task", "web-abc-2", "deleted")
    await eventually(lambda: _used(env, "node-2", 1.0), "node-2 runs one pod", 10)
    await api.call("DELETE", "/api/v1/nodes/node-1")
    await env.hears("agent", "node-1", "deleted")
    await api.call("DELETE", "/apis/apps/v1/namespaces/dev/deployments/web")
    await env.hears("app", "web", "deleted")
    await env.hears("task", "web-abc-1", "deleted")  # a pod of no app is no task
    assert env.lists_sent(since) == []
    await env.agrees()


async def test_an_expired_version_relists_once_and_loses_no_change(env: Followed) -> None:
    api, emulator = env.kube.controllers, env.kube.emulator
    await api.call("POST", "/api/v1/namespaces/dev/pods", pod("web-abc-1", "node-1", "1"))
    await env.hears("task", "web-abc-1", "added")
    since = len(emulator.requests_log)
    await api.call(  # the cluster moves on, past every version the watches saw
        "POST", "/api/v1/namespaces/dev/secrets", {"metadata": {"name": "unrelated"}}
    )
    emulator.compact()
    emulator.end_watches()
    await api.call("POST", "/api/v1/namespaces/dev/pods", pod("web-abc-2", "node-2", "2"))
    await env.hears("task", "web-abc-2", "added")
    await eventually(lambda: _used(env, "node-2", 2.0), "node-2's sums after the relist", 10)

    def relists(path: str) -> int:
        return sum(
            1
            for method, p, q in emulator.requests_log[since:]
            if method == "GET" and p == path and not {"watch", "continue"} & q.keys()
        )

    await eventually(
        lambda: _true(all(relists("/" + "/".join(p)) >= 1 for p in WATCHED)),
        "every resource relisted",
        10,
    )
    assert relists("/api/v1/pods") == 1
    assert [e.id for e in env.drain() if e.kind == "task"].count("web-abc-1") == 1, (
        "a pod that did not change is not told again after the relist"
    )
    await env.agrees()


async def test_a_change_to_a_nodes_allocatable_shows(env: Followed) -> None:
    since = len(env.kube.emulator.requests_log)
    await env.kube.controllers.call(
        "PATCH",
        "/api/v1/nodes/node-2",
        {"status": {"allocatable": {"cpu": "16", "memory": "64Gi"}}},
    )
    agent = await env.hears("agent", "node-2", "modified")
    assert (agent.object or {})["resources"]["cpus"] == 16
    assert (agent.object or {})["resources"]["mem"] == 65536
    assert env.lists_sent(since) == []
    await env.agrees()


async def test_a_burst_of_changes_is_applied_in_a_few_passes(env: Followed) -> None:
    api = env.kube.controllers
    since = len(env.kube.emulator.requests_log)
    burst = 40
    await asyncio.gather(
        *(
            api.call("POST", "/api/v1/namespaces/dev/pods", pod(f"web-abc-{n}", "node-1", "100m"))
            for n in range(burst)
        )
    )
    await eventually(lambda: _used(env, "node-1", 4.0), "every pod counted", 10)
    tasks = sorted(e.id for e in env.drain() if (e.kind, e.change) == ("task", "added"))
    assert tasks == sorted(f"web-abc-{n}" for n in range(burst)), "each pod told once"
    node = [e for e in env.heard if (e.kind, e.id) == ("agent", "node-1")]
    # Forty changes sent at once cannot each have a pass of their own (a pass waits 0.2 s
    # for more): far fewer events than changes, whatever the machine.
    assert 1 <= len(node) < burst // 2, f"{len(node)} events for node-1: not coalesced"
    assert env.lists_sent(since) == []
    await env.agrees()
