"""Kubernetes watches as a change feed: list, then watch from the list's resourceVersion.

One watch per resource, cluster-wide, with bookmarks so that a quiet resource
still moves its version forward. A 410 (the version is too old for the server)
means relisting to get a fresh version, and telling the cache everything may
have changed in between. Pods signal tasks, apps and agents (their requests
are the agents' used resources); workloads signal apps; nodes agents; jobs jobs.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

import structlog

from asgard.backends.feeds import ClusterFeed, Resource, Signal
from asgard.backends.kubernetes.client import KubeClient
from asgard.tasks import cancel_and_wait

WATCHED: dict[str, frozenset[Resource]] = {
    "/api/v1/nodes": frozenset({"agents"}),
    "/api/v1/pods": frozenset({"tasks", "apps", "agents", "jobs"}),
    "/apis/apps/v1/deployments": frozenset({"apps"}),
    "/apis/apps/v1/statefulsets": frozenset({"apps"}),
    "/apis/apps/v1/daemonsets": frozenset({"apps"}),
    "/apis/batch/v1/jobs": frozenset({"jobs"}),
}
WATCH_TIMEOUT_S = 300
SHORTEST_WATCH_S = 1.0
"""A watch ended sooner than this is reopened after this long: a proxy that closes every
watch at once must not turn the feed into a loop of requests."""

log = structlog.get_logger(__name__)


class Relist(Exception):
    pass


class KubernetesFeed(ClusterFeed):
    def __init__(self, client: KubeClient) -> None:
        self.client = client

    async def _version(self, path: str) -> str:
        page = await self.client.request("GET", path, what="list", params={"limit": "1"})
        return str((page.get("metadata") or {}).get("resourceVersion") or "")

    async def _watch(
        self, path: str, resources: frozenset[Resource], out: asyncio.Queue[Signal | BaseException]
    ) -> None:
        try:
            version = await self._version(path)
            while True:
                params = {
                    "watch": "true",
                    "resourceVersion": version,
                    "allowWatchBookmarks": "true",
                    "timeoutSeconds": str(WATCH_TIMEOUT_S),
                }
                opened = time.monotonic()
                try:
                    async with self.client.stream(
                        path, what=f"watch {path}", params=params
                    ) as response:
                        async for line in response.content:
                            if not line.strip():
                                continue
                            event = json.loads(line)
                            obj = event.get("object") or {}
                            meta = obj.get("metadata") or {}
                            if event.get("type") == "ERROR":
                                if obj.get("code") == 410:
                                    raise Relist()
                                raise ConnectionError(obj.get("message") or "watch error")
                            version = str(meta.get("resourceVersion") or version)
                            if event.get("type") != "BOOKMARK":
                                await out.put(Signal(resources, meta.get("namespace")))
                except Relist:  # once, from a fresh version: not the whole feed again
                    log.info("watch version expired; relisting", path=path, version=version)
                    version = await self._version(path)
                    await out.put(Signal.everything())
                    continue
                if time.monotonic() - opened < SHORTEST_WATCH_S:
                    await asyncio.sleep(SHORTEST_WATCH_S)
        except BaseException as exc:
            await out.put(exc)

    async def signals(self) -> AsyncIterator[Signal]:
        out: asyncio.Queue[Signal | BaseException] = asyncio.Queue()
        for path in WATCHED:  # fail here, before saying we are connected, if the API is down
            await self._version(path)
        tasks = [asyncio.create_task(self._watch(p, r, out)) for p, r in WATCHED.items()]
        try:
            yield Signal.everything()
            while True:
                item = await out.get()
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            await cancel_and_wait(*tasks)
