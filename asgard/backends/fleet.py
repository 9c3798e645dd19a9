"""Many clusters as one Orchestrator.

Reads fan out to every cluster the account may use, concurrently, each under
its own timeout (``ClusterOrchestrator.call``). A cluster that fails becomes an
entry in ``Listing.errors`` (Backstage's lesson: one bad cluster must not blank
the page); only when every cluster fails does the read fail, with
``AllClustersFailed``. Writes and single-item reads go to the one cluster named.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Sequence
from typing import TypeVar

from asgard.backends.base import (
    ClusterOrchestrator,
    Listing,
    LogStream,
    Orchestrator,
    ScheduledJobsBackend,
    WorkspaceMount,
)
from asgard.errors import AllClustersFailed, ClusterError, NotFound, NotSupported
from asgard.events import EventHub
from asgard.models import (
    Account,
    Agent,
    App,
    AppPatch,
    AppSpec,
    AppStats,
    ClusterErrorInfo,
    ClusterStatus,
    Job,
    JobSpec,
    ScheduledJob,
    ScheduledJobSpec,
    StatsWindow,
    Task,
    WorkflowVolume,
)

T = TypeVar("T")


class Fleet(Orchestrator):
    def __init__(self, clusters: Sequence[ClusterOrchestrator]) -> None:
        names = [c.name for c in clusters]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"cluster names must be unique, repeated: {', '.join(duplicates)}")
        self.clusters: dict[str, ClusterOrchestrator] = {c.name: c for c in clusters}

    def cluster_names(self) -> list[str]:
        return sorted(self.clusters)

    def cluster(self, account: Account, name: str) -> ClusterOrchestrator:
        """The named cluster, if it exists and the account may use it."""
        found = self.clusters.get(name)
        if found is None or not account.may_use(name):
            raise NotFound(f"unknown cluster '{name}'", field="cluster", cluster=name)
        return found

    def _chosen(
        self, account: Account | None, names: Collection[str] | None
    ) -> list[ClusterOrchestrator]:
        if names is not None:
            unknown = sorted(set(names) - set(self.clusters))
            if unknown:
                raise NotFound(
                    f"unknown cluster '{unknown[0]}'", field="cluster", cluster=unknown[0]
                )
        return [
            c
            for name, c in sorted(self.clusters.items())
            if (names is None or name in names) and (account is None or account.may_use(name))
        ]

    async def _gather(
        self,
        account: Account,
        names: Collection[str] | None,
        read: Callable[[ClusterOrchestrator], Awaitable[Listing[T]]],
    ) -> Listing[T]:
        chosen = self._chosen(account, names)
        results = await asyncio.gather(*(read(c) for c in chosen), return_exceptions=True)
        listing: Listing[T] = Listing()
        failures: list[ClusterError] = []
        for result in results:
            if isinstance(result, ClusterError):
                failures.append(result)
                listing.errors.append(
                    ClusterErrorInfo(cluster=result.cluster, msg=result.msg, kind=result.kind)
                )
            elif isinstance(result, NotSupported):
                continue  # a kind without jobs simply has none to list
            elif isinstance(result, BaseException):
                raise result
            else:
                listing.items.extend(result.items)
                listing.errors.extend(result.errors)
                listing.as_of.update(result.as_of)
        if chosen and len(failures) == len(chosen):
            raise AllClustersFailed(failures)
        return listing

    async def cluster_statuses(self, account: Account | None) -> list[ClusterStatus]:
        chosen = self._chosen(account, None)
        return list(await asyncio.gather(*(c.status() for c in chosen)))

    def enable_caches(self, hub: EventHub) -> None:
        for cluster in self.clusters.values():
            cluster.enable_caches(hub)

    def schedule_with(self, make: Callable[[str, str], ScheduledJobsBackend]) -> None:
        for cluster in self.clusters.values():
            cluster.schedule_with(make)

    async def start(self) -> None:
        await asyncio.gather(*(c.start() for c in self.clusters.values()))

    async def close(self) -> None:
        await asyncio.gather(*(c.close() for c in self.clusters.values()))

    async def list_agents(
        self, account: Account, clusters: Collection[str] | None = None
    ) -> Listing[Agent]:
        return await self._gather(account, clusters, lambda c: c.list_agents(account))

    async def get_agent(self, account: Account, cluster: str, agent_id: str) -> Agent:
        return await self.cluster(account, cluster).get_agent(account, cluster, agent_id)

    async def list_agent_apps(self, account: Account, cluster: str, agent_id: str) -> list[App]:
        return await self.cluster(account, cluster).list_agent_apps(account, cluster, agent_id)

    async def list_apps(
        self, account: Account, clusters: Collection[str] | None = None
    ) -> Listing[App]:
        return await self._gather(account, clusters, lambda c: c.list_apps(account))

    async def get_app(self, account: Account, cluster: str, app_id: str) -> App:
        return await self.cluster(account, cluster).get_app(account, cluster, app_id)

    async def create_app(self, account: Account, spec: AppSpec) -> App:
        return await self.cluster(account, spec.cluster).create_app(account, spec)

    async def update_app(self, account: Account, cluster: str, app_id: str, patch: AppPatch) -> App:
        return await self.cluster(account, cluster).update_app(account, cluster, app_id, patch)

    async def delete_app(self, account: Account, cluster: str, app_id: str) -> None:
        await self.cluster(account, cluster).delete_app(account, cluster, app_id)

    async def restart_app(self, account: Account, cluster: str, app_id: str) -> App:
        return await self.cluster(account, cluster).restart_app(account, cluster, app_id)

    async def list_tasks(self, account: Account, cluster: str, app_id: str) -> list[Task]:
        return await self.cluster(account, cluster).list_tasks(account, cluster, app_id)

    async def app_stats(
        self, account: Account, cluster: str, app_id: str, window: StatsWindow
    ) -> AppStats:
        return await self.cluster(account, cluster).app_stats(account, cluster, app_id, window)

    async def app_logs(
        self, account: Account, cluster: str, app_id: str, *, tail: int, follow: bool
    ) -> LogStream:
        return await self.cluster(account, cluster).app_logs(
            account, cluster, app_id, tail=tail, follow=follow
        )

    async def list_jobs(
        self, account: Account, clusters: Collection[str] | None = None
    ) -> Listing[Job]:
        return await self._gather(account, clusters, lambda c: c.list_jobs(account))

    async def create_job(
        self,
        account: Account,
        spec: JobSpec,
        input_zip: bytes | None,
        mount: WorkspaceMount | None = None,
    ) -> Job:
        return await self.cluster(account, spec.cluster).create_job(account, spec, input_zip, mount)

    async def create_workspace(
        self, account: Account, cluster: str, name: str, volume: WorkflowVolume
    ) -> None:
        await self.cluster(account, cluster).create_workspace(account, cluster, name, volume)

    async def delete_workspace(self, account: Account, cluster: str, name: str) -> None:
        await self.cluster(account, cluster).delete_workspace(account, cluster, name)

    async def get_job(self, account: Account, cluster: str, job_id: str) -> Job:
        return await self.cluster(account, cluster).get_job(account, cluster, job_id)

    async def delete_job(self, account: Account, cluster: str, job_id: str) -> None:
        await self.cluster(account, cluster).delete_job(account, cluster, job_id)

    async def job_logs(
        self, account: Account, cluster: str, job_id: str, *, follow: bool
    ) -> LogStream:
        return await self.cluster(account, cluster).job_logs(
            account, cluster, job_id, follow=follow
        )

    async def job_output(self, account: Account, cluster: str, job_id: str) -> bytes:
        return await self.cluster(account, cluster).job_output(account, cluster, job_id)

    def carries_job_files(self, account: Account, cluster: str) -> bool:
        return self.cluster(account, cluster).carries_job_files(account, cluster)

    def cluster_kind(self, account: Account, cluster: str) -> str:
        return self.cluster(account, cluster).cluster_kind(account, cluster)

    async def settle_job(self, account: Account, cluster: str, job_id: str) -> None:
        await self.cluster(account, cluster).settle_job(account, cluster, job_id)

    async def list_scheduled_jobs(
        self, account: Account, clusters: Collection[str] | None = None
    ) -> Listing[ScheduledJob]:
        return await self._gather(account, clusters, lambda c: c.list_scheduled_jobs(account))

    async def get_scheduled_job(self, account: Account, cluster: str, job_id: str) -> ScheduledJob:
        return await self.cluster(account, cluster).get_scheduled_job(account, cluster, job_id)

    async def create_scheduled_job(self, account: Account, spec: ScheduledJobSpec) -> ScheduledJob:
        return await self.cluster(account, spec.cluster).create_scheduled_job(account, spec)

    async def update_scheduled_job(
        self, account: Account, cluster: str, job_id: str, spec: ScheduledJobSpec
    ) -> ScheduledJob:
        return await self.cluster(account, cluster).update_scheduled_job(
            account, cluster, job_id, spec
        )

    async def delete_scheduled_job(self, account: Account, cluster: str, job_id: str) -> None:
        await self.cluster(account, cluster).delete_scheduled_job(account, cluster, job_id)
