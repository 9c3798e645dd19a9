"""What every backend of one local cluster shares: the client (the state folder's lock
and the host's facts), the app deployer, the job runner and the change feed; started
once and closed once, whichever backend is started or closed first.

Starting is supervising: the lock is taken, processes an Asgard that crashed left are
ended, kept apps are launched again and jobs that were running are marked interrupted.
Closing stops every process this Asgard started and gives the lock up, so the next
Asgard can take over.
"""

from __future__ import annotations

import asyncio

import structlog

from asgard.models import ResourceLimits
from asgard_local.client import LocalClient
from asgard_local.deploy import Deployer
from asgard_local.feed import Changes
from asgard_local.isolation import Isolation
from asgard_local.processes import end_stale
from asgard_local.runner import JobRunner
from asgard_local.store import Store

__all__ = ["LocalHost"]

log = structlog.get_logger(__name__)


class LocalHost:
    def __init__(self, client: LocalClient, isolation: Isolation, *, grace_s: float) -> None:
        self.client = client
        self.cluster = client.cluster
        self.store: Store = client.store
        self.isolation = isolation
        self.grace_s = grace_s
        self.changes = Changes()
        self.apps = Deployer(client, self.store, self.changes, grace_s=grace_s)
        self.jobs = JobRunner(client, self.store, self.changes, isolation, grace_s=grace_s)
        self._life = asyncio.Lock()
        self._started = False

    async def start(self) -> None:
        async with self._life:
            if self._started:
                return
            self._started = True
            if not self.client.connect():
                return  # operations say why (ClusterUnreachable)
            await end_stale(self.store.pid_files(), self.grace_s)
            self.jobs.recover()
            await self.apps.recover()
            log.info(
                "supervising the local cluster",
                cluster=self.cluster,
                state_dir=str(self.store.root),
                isolation=self.isolation.available or self.isolation.reason,
            )

    async def close(self) -> None:
        async with self._life:
            if self.client.connected:
                await asyncio.gather(self.apps.close(), self.jobs.close())
            self.client.release()

    def ensure(self) -> None:
        """``ClusterUnreachable`` unless this Asgard supervises the state folder."""
        self.client.ensure()

    def reserved(self) -> list[ResourceLimits]:
        """What running instances and jobs declare: what the host has given away."""
        instances = [
            i.spec.resources
            for app in self.apps.apps.values()
            for i in app.instances
            if i.state == "running"
        ]
        return [*instances, *self.jobs.reserved()]
