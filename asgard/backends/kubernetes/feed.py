"""Kubernetes watches as a change feed that keeps the cluster's objects (an informer).

Each watched resource is listed into the ``KubeStore``, page by page, keeping only
what the converters read, then watched cluster-wide from the list's resourceVersion,
with bookmarks so that a quiet resource still moves its version forward. Every event
is applied to the store, and the feed yields the ``Signal`` naming what it changed (a
pod: its task, its node's agent, its Job; a workload: its app and its tasks; a node:
its agent; a Job: its job). A 410 (the version is too old for the server) means
listing that resource again; everything of it may have changed in between. The store
is current from the moment every resource is listed until the feed breaks.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from functools import partial
from typing import Final

import structlog

from asgard.backends.common import Segments
from asgard.backends.feeds import ClusterFeed, Signal
from asgard.backends.kubernetes.client import KubeClient
from asgard.backends.kubernetes.store import Kept, KubeStore
from asgard.tasks import cancel_and_wait

WATCHED: Final[dict[Segments, Kept]] = {
    ("api", "v1", "nodes"): "nodes",
    ("api", "v1", "pods"): "pods",
    ("apis", "apps", "v1", "deployments"): "deployments",
    ("apis", "apps", "v1", "statefulsets"): "statefulsets",
    ("apis", "apps", "v1", "daemonsets"): "daemonsets",
    ("apis", "batch", "v1", "jobs"): "jobs",
}
WATCH_TIMEOUT_S = 300
SHORTEST_WATCH_S = 1.0
"""A watch ended sooner than this is reopened after this long: a proxy that closes every
watch at once must not turn the feed into a loop of requests."""

log = structlog.get_logger(__name__)

Out = asyncio.Queue[Signal | BaseException]


class Relist(Exception):
    pass


class KubernetesFeed(ClusterFeed):
    def __init__(self, client: KubeClient, store: KubeStore | None = None) -> None:
        self.client = client
        self.store = store or KubeStore()

    async def _list(self, path: Segments) -> tuple[Signal, str]:
        """List ``path`` into the store; what changed, and the version to watch from."""
        kind = WATCHED[path]
        started = time.monotonic()
        kept, version = await self.client.list_into(
            path, what=f"list {kind}", keep=partial(self.store.keep, kind)
        )
        # How long a big cluster takes to follow from scratch: operators (and the
        # benchmarks) read it here.
        log.info(
            "listed", resource=kind, items=len(kept), seconds=round(time.monotonic() - started, 3)
        )
        return self.store.replace(kind, kept), version

    async def _watch(self, path: Segments, version: str, out: Out) -> None:
        kind = WATCHED[path]
        try:
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
                        path, what=f"watch {kind}", params=params
                    ) as response:
                        async for line in response.content:
                            if not line.strip():
                                continue
                            event = json.loads(line)
                            change, obj = event.get("type"), event.get("object") or {}
                            if change == "ERROR":
                                if obj.get("code") == 410:
                                    raise Relist()
                                raise ConnectionError(obj.get("message") or "watch error")
                            meta = obj.get("metadata") or {}
                            version = str(meta.get("resourceVersion") or version)
                            if change != "BOOKMARK":
                                out.put_nowait(self.store.apply(kind, str(change), obj))
                except Relist:  # once, from a fresh list: not the whole feed again
                    log.info("watch version expired; relisting", path=path, version=version)
                    signal, version = await self._list(path)
                    out.put_nowait(signal)
                    continue
                if time.monotonic() - opened < SHORTEST_WATCH_S:
                    await asyncio.sleep(SHORTEST_WATCH_S)
        except BaseException as exc:
            out.put_nowait(exc)

    async def signals(self) -> AsyncIterator[Signal]:
        out: Out = asyncio.Queue()
        self.store.begin()
        tasks: list[asyncio.Task[None]] = []
        try:
            # Fail here, before saying we are connected, if the API is down. One at a time:
            # 150,000 pods and everything else at once would only hold more memory at once.
            versions = {path: (await self._list(path))[1] for path in WATCHED}
            self.store.filled()
            tasks = [asyncio.create_task(self._watch(p, v, out)) for p, v in versions.items()]
            yield Signal.everything()
            while True:
                item = await out.get()
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            self.store.stopped()
            await cancel_and_wait(*tasks)
