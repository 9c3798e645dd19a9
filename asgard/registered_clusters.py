"""Serving the clusters registered through the API, in every process, without a restart.

Each process keeps its ``Orchestrator``'s registered clusters as the database says: a
cluster registered is assembled and started here (backends, feed, cache, probe), one
removed is closed and forgotten everywhere this process kept something of it (its usage
history, the answers kept over it, its events), one changed is closed and assembled
again from its new entry. The process that made the change applies it before answering;
the others hear the ``clusters`` notice (PostgreSQL) or find it at their next look at
the registry's revision, one small row (SQLite, every ``poll_s``).

A clusters file's entry wins over a registered cluster of the same name (the file is
what the operator wrote last when it names a cluster registered earlier): the row is
left alone, logged, and served once the file's entry is gone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection
from datetime import datetime

import structlog

from asgard.backends.orchestrator import Orchestrator
from asgard.backends.registry import BackendContext
from asgard.cluster_entries import config_of
from asgard.cluster_keys import ClusterKeys, KeysMissing, UnreadableSecrets
from asgard.clusters import assemble
from asgard.db.clusters import ClusterStore
from asgard.db.engine import Database
from asgard.errors import DatabaseUnavailable
from asgard.events import Audience, Event, EventHub
from asgard.loops import PeriodicLoop
from asgard.models import StoredCluster

__all__ = ["RegisteredClusters"]

log = structlog.get_logger(__name__)

HEARD_POLL_S = 300.0
"""How often the revision is read while the notices are heard: only to catch a notice
lost while the listening connection was being made again."""


class RegisteredClusters:
    def __init__(
        self,
        db: Database,
        orchestrator: Orchestrator,
        context: BackendContext,
        hub: EventHub,
        keys: ClusterKeys,
        *,
        poll_s: float,
        file_names: Collection[str],
    ) -> None:
        self.db = db
        self.orchestrator = orchestrator
        self.context = context
        self.hub = hub
        self.keys = keys
        self.poll_s = poll_s
        self.file_names = frozenset(file_names)
        """The clusters file's names: never served from the registry."""
        self.applied: dict[str, datetime] = {}
        """Each registered cluster served here, by the ``updated_at`` of its entry."""
        self.revision: int | None = None
        self._removed: list[Callable[[str], None]] = []
        self._turn = asyncio.Lock()
        self.loop = PeriodicLoop(
            "registered-clusters",
            self.step,
            every_s=self._interval_s,
            wait_first=True,
            expected=(DatabaseUnavailable,),
        )
        db.notices.on("clusters", self.loop.poke, others_only=True)

    def _interval_s(self) -> float:
        return max(self.poll_s, HEARD_POLL_S) if self.db.notices.listening else self.poll_s

    def on_removed(self, forget: Callable[[str], None]) -> None:
        """Call ``forget(name)`` when a cluster stops being served here: what this process
        kept of it (usage history, kept answers) goes with it."""
        self._removed.append(forget)

    async def step(self) -> None:
        """Read the revision; when it moved, bring the served clusters in line."""
        async with self._turn:
            async with self.db.session() as session:
                store = ClusterStore(session)
                revision = await store.revision()
                if revision == self.revision:
                    return
                rows = await store.all()
            await self._apply(rows)
            self.revision = revision

    async def _apply(self, rows: list[StoredCluster]) -> None:
        wanted = {r.name: r for r in rows if r.name not in self.file_names}
        for row in rows:
            if row.name in self.file_names:
                log.warning(
                    "a registered cluster has the name of a clusters file's entry: the "
                    "file's is served",
                    cluster=row.name,
                )
        for name, at in list(self.applied.items()):
            if name not in wanted:
                await self._remove(name, gone=True)
            elif wanted[name].updated_at != at:
                await self._remove(name, gone=False)  # assembled again from its new entry
        for name, row in wanted.items():
            if name not in self.applied:
                await self._add(row)

    async def _add(self, row: StoredCluster) -> None:
        try:
            config = config_of(row, self.keys)
            cluster = await assemble(config, self.context, self.hub)
        except (KeysMissing, UnreadableSecrets, ValueError) as exc:
            log.warning("a registered cluster cannot be served", cluster=row.name, error=str(exc))
            return
        cluster.source = "api"
        await self.orchestrator.add(cluster)
        self.applied[row.name] = row.updated_at
        log.info("serving a registered cluster", cluster=row.name, kind=row.kind)

    async def _remove(self, name: str, *, gone: bool) -> None:
        """Close the cluster and forget what was kept of it; ``gone``: it was removed (not
        changed), which its accounts' ``/events`` are told with one ``cluster`` event."""
        del self.applied[name]
        await self.orchestrator.remove(name)
        self.hub.forget_cluster(name)
        for forget in self._removed:
            forget(name)
        if gone:
            self.hub.publish(
                Audience(cluster=name, namespace=None),
                [Event(kind="cluster", cluster=name, id=name, change="deleted", object=None)],
            )
            log.info("no longer serving a cluster", cluster=name)

    async def start(self) -> None:
        """Serve what is registered now, then keep following the registry."""
        await self.step()
        await self.loop.start()

    async def close(self) -> None:
        """Stop following, and close the registered clusters served here."""
        await self.loop.close()
        async with self._turn:
            for name in list(self.applied):
                del self.applied[name]
                await self.orchestrator.remove(name)
