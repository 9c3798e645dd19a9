"""The contract every cluster kind fulfils, and the Orchestrator that services use.

A cluster kind supplies four backends (agents, apps, jobs, scheduled jobs) and a
``ClusterClient`` (reachability and version). ``ClusterOrchestrator`` composes
them for one cluster; ``asgard.backends.fleet.Fleet`` composes many clusters and
is itself an ``Orchestrator``. Services and routes only ever see ``Orchestrator``.

Backends are scoped by account: they receive the ``Account`` and answer only
with what belongs to its namespace (apps, jobs) or owner (agents). Pushing that
scoping down to the cluster (a label selector, a group prefix) is the backend's
job, because only it knows how to ask its cluster for less.

Every backend method that a kind cannot do raises ``NotSupported`` (HTTP 501).
The reads that define a kind (agents and apps) are abstract; the rest default to
``NotSupported`` so a new kind can start small and grow.
"""

from __future__ import annotations

import asyncio
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar, Generic, Literal, NoReturn, TypeVar

import aiohttp

from asgard.backends.breaker import Breaker
from asgard.backends.cache import ClusterCache
from asgard.backends.feeds import ClusterFeed, PollingFeed, Resource
from asgard.errors import (
    AsgardError,
    ClusterError,
    ClusterTimeout,
    ClusterUnreachable,
    NotFound,
    NotSupported,
)
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
    JobStatus,
    ScheduledJob,
    ScheduledJobSpec,
    StatsWindow,
    Task,
    WorkflowVolume,
)
from asgard.models.base import utc_now

T = TypeVar("T")

LogStream = AsyncIterator[bytes]
"""Log output as it arrives. Obtained with ``await``, so a missing app fails before streaming."""


@dataclass
class Listing(Generic[T]):
    """What a multi-cluster read found: the healthy clusters' items and the others' errors,
    and when each cluster's answer was read (from its cache, or live)."""

    items: list[T] = field(default_factory=list)
    errors: list[ClusterErrorInfo] = field(default_factory=list)
    as_of: dict[str, datetime] = field(default_factory=dict)


class ClusterClient(ABC):
    """The connection to one cluster: what every backend of that cluster shares."""

    @abstractmethod
    async def version(self) -> str:
        """The cluster's version; raises a ``ClusterError`` when it does not answer."""

    @abstractmethod
    async def close(self) -> None:
        """Release connections. Called once, on shutdown."""


class _Backend:
    """What all backends of one cluster know: which cluster, and of what kind."""

    def __init__(self, cluster: str, kind: str) -> None:
        self.cluster = cluster
        self.kind = kind

    def unsupported(self, operation: str) -> NoReturn:
        raise NotSupported(self.kind, operation, cluster=self.cluster)

    async def start(self) -> None:
        """Begin background work (watching running jobs, cleaning up). Called once by the
        server, never by one-off commands, so ``asgard clusters check`` starts nothing."""
        return None

    async def close(self) -> None:
        """Stop background work. Called once, on shutdown, before the client closes."""
        return None


class AgentsBackend(_Backend, ABC):
    @abstractmethod
    async def list_agents(self, account: Account) -> list[Agent]:
        """The agents of this cluster that the account may see (its ``owner``)."""

    @abstractmethod
    async def get_agent(self, account: Account, agent_id: str) -> Agent:
        """One agent; ``NotFound`` when unknown or not the account's."""

    @abstractmethod
    async def list_agent_apps(self, account: Account, agent_id: str) -> list[App]:
        """The account's apps with an instance on that agent (never another account's)."""


class AppsBackend(_Backend, ABC):
    @abstractmethod
    async def list_apps(self, account: Account) -> list[App]:
        """The apps of the account's namespace, ids without the namespace."""

    @abstractmethod
    async def get_app(self, account: Account, app_id: str) -> App:
        """One app; ``NotFound`` when it is not in the account's namespace."""

    @abstractmethod
    async def list_tasks(self, account: Account, app_id: str) -> list[Task]:
        """The app's current instances."""

    async def list_all_tasks(self, account: Account) -> list[Task]:
        """The instances of every app of the account. Kinds that can list them in one call
        should: this default asks app by app."""
        apps = await self.list_apps(account)
        gate = asyncio.Semaphore(8)

        async def of(app_id: str) -> list[Task]:
            async with gate:
                try:
                    return await self.list_tasks(account, app_id)
                except NotFound:  # removed meanwhile
                    return []

        found = await asyncio.gather(*(of(a.id) for a in apps))
        return [task for tasks in found for task in tasks]

    async def create_app(self, account: Account, spec: AppSpec) -> App:
        """Deploy; ``Conflict`` when the id is taken, ``InvalidValue`` for an unknown image."""
        self.unsupported("creating apps")

    async def update_app(self, account: Account, app_id: str, patch: AppPatch) -> App:
        """Apply the patch and redeploy; ``instances`` 0 suspends and keeps the definition."""
        self.unsupported("updating apps")

    async def delete_app(self, account: Account, app_id: str) -> None:
        """Remove the app and everything created for it."""
        self.unsupported("deleting apps")

    async def restart_app(self, account: Account, app_id: str) -> App:
        """Replace every instance."""
        self.unsupported("restarting apps")

    async def app_stats(self, account: Account, app_id: str, window: StatsWindow) -> AppStats:
        """CPU and memory use summed over the instances."""
        self.unsupported("app stats")

    async def app_logs(
        self, account: Account, app_id: str, *, tail: int, follow: bool
    ) -> LogStream:
        """The last ``tail`` lines of every instance, then new ones while ``follow``."""
        self.unsupported("app logs")


@dataclass(frozen=True)
class WorkspaceMount:
    """Where a workflow stage's job keeps its files: in the workflow's shared volume
    (``workspace``), ``/input`` is the folder ``input_dir`` (the stage before wrote it;
    None for the first stage, which gets an empty ``/input``) and ``/output`` the folder
    ``output_dir``. Backends make the folders when they are missing."""

    workspace: str
    input_dir: str | None
    output_dir: str


class JobsBackend(_Backend):
    """One-time jobs: seed 000's engine contract (create, read, read status, delete)."""

    async def create_job(
        self,
        account: Account,
        spec: JobSpec,
        input_zip: bytes | None,
        mount: WorkspaceMount | None = None,
    ) -> Job:
        self.unsupported("one-time jobs")

    async def create_workspace(self, account: Account, name: str, volume: WorkflowVolume) -> None:
        """Make the volume a workflow's stages share; nothing when it exists already."""
        self.unsupported("workflow volumes")

    async def delete_workspace(self, account: Account, name: str) -> None:
        """Remove a workflow's volume and what it holds; nothing when it is gone already.
        Called once the stages' jobs are deleted."""
        self.unsupported("workflow volumes")

    async def get_job(self, account: Account, job_id: str) -> Job:
        self.unsupported("one-time jobs")

    async def get_job_status(self, account: Account, job_id: str) -> JobStatus:
        return (await self.get_job(account, job_id)).status

    async def list_jobs(self, account: Account) -> list[Job]:
        self.unsupported("one-time jobs")

    async def delete_job(self, account: Account, job_id: str) -> None:
        self.unsupported("one-time jobs")

    async def job_logs(self, account: Account, job_id: str, *, follow: bool) -> LogStream:
        self.unsupported("job logs")

    async def job_output(self, account: Account, job_id: str) -> bytes:
        """A zip of what the job wrote under ``/output``; ``NotFound`` until it has finished."""
        self.unsupported("job output")

    carries_files: ClassVar[bool] = True
    """Whether jobs take an input zip and leave their ``/output`` (what workflows need)."""

    async def settle_job(self, account: Account, job_id: str) -> None:
        """Make sure what follows a job's end has happened (its output collected). The
        reconciler calls it when it sees a job finished; backends that keep nothing after
        a job, or collect on their own, need not override it."""


class ScheduledJobsBackend(_Backend):
    """Scheduled jobs; this base is what a kind with no scheduler of its own has, and
    Asgard then offers its own (``asgard.scheduling``) in its place."""

    async def list_scheduled_jobs(self, account: Account) -> list[ScheduledJob]:
        self.unsupported("scheduled jobs")

    async def get_scheduled_job(self, account: Account, job_id: str) -> ScheduledJob:
        self.unsupported("scheduled jobs")

    async def create_scheduled_job(self, account: Account, spec: ScheduledJobSpec) -> ScheduledJob:
        """The id is the spec's name; ``Conflict`` when the account has one by that name."""
        self.unsupported("scheduled jobs")

    async def update_scheduled_job(
        self, account: Account, job_id: str, spec: ScheduledJobSpec
    ) -> ScheduledJob:
        self.unsupported("scheduled jobs")

    async def delete_scheduled_job(self, account: Account, job_id: str) -> None:
        self.unsupported("scheduled jobs")


class Orchestrator(ABC):
    """Everything Asgard can do with clusters, addressed by (cluster, id).

    Lists take the clusters to read (``None`` for all the account may use) and
    return a ``Listing``; single items name their cluster.
    """

    @abstractmethod
    def cluster_names(self) -> list[str]: ...

    @abstractmethod
    async def cluster_statuses(self, account: Account | None) -> list[ClusterStatus]: ...

    async def start(self) -> None:
        """Begin the backends' background work; see ``_Backend.start``."""
        return None

    def enable_caches(self, hub: EventHub) -> None:
        """Answer lists from caches fed by the clusters' change feeds, and tell ``hub``."""
        return None

    def schedule_with(self, make: Callable[[str, str], ScheduledJobsBackend]) -> None:
        """Clusters whose kind has no scheduler get ``make(name, kind)``'s scheduled jobs."""
        return None

    @abstractmethod
    async def close(self) -> None: ...

    # agents
    @abstractmethod
    async def list_agents(
        self, account: Account, clusters: Collection[str] | None = None
    ) -> Listing[Agent]: ...

    @abstractmethod
    async def get_agent(self, account: Account, cluster: str, agent_id: str) -> Agent: ...

    @abstractmethod
    async def list_agent_apps(self, account: Account, cluster: str, agent_id: str) -> list[App]: ...

    # apps
    @abstractmethod
    async def list_apps(
        self, account: Account, clusters: Collection[str] | None = None
    ) -> Listing[App]: ...

    @abstractmethod
    async def get_app(self, account: Account, cluster: str, app_id: str) -> App: ...

    @abstractmethod
    async def create_app(self, account: Account, spec: AppSpec) -> App: ...

    @abstractmethod
    async def update_app(
        self, account: Account, cluster: str, app_id: str, patch: AppPatch
    ) -> App: ...

    @abstractmethod
    async def delete_app(self, account: Account, cluster: str, app_id: str) -> None: ...

    @abstractmethod
    async def restart_app(self, account: Account, cluster: str, app_id: str) -> App: ...

    @abstractmethod
    async def list_tasks(self, account: Account, cluster: str, app_id: str) -> list[Task]: ...

    @abstractmethod
    async def app_stats(
        self, account: Account, cluster: str, app_id: str, window: StatsWindow
    ) -> AppStats: ...

    @abstractmethod
    async def app_logs(
        self, account: Account, cluster: str, app_id: str, *, tail: int, follow: bool
    ) -> LogStream: ...

    # jobs
    @abstractmethod
    async def list_jobs(
        self, account: Account, clusters: Collection[str] | None = None
    ) -> Listing[Job]: ...

    @abstractmethod
    async def create_job(
        self,
        account: Account,
        spec: JobSpec,
        input_zip: bytes | None,
        mount: WorkspaceMount | None = None,
    ) -> Job: ...

    @abstractmethod
    async def create_workspace(
        self, account: Account, cluster: str, name: str, volume: WorkflowVolume
    ) -> None: ...

    @abstractmethod
    async def delete_workspace(self, account: Account, cluster: str, name: str) -> None: ...

    @abstractmethod
    async def get_job(self, account: Account, cluster: str, job_id: str) -> Job: ...

    @abstractmethod
    async def delete_job(self, account: Account, cluster: str, job_id: str) -> None: ...

    @abstractmethod
    async def job_logs(
        self, account: Account, cluster: str, job_id: str, *, follow: bool
    ) -> LogStream: ...

    @abstractmethod
    async def job_output(self, account: Account, cluster: str, job_id: str) -> bytes: ...

    @abstractmethod
    async def settle_job(self, account: Account, cluster: str, job_id: str) -> None: ...

    @abstractmethod
    def carries_job_files(self, account: Account, cluster: str) -> bool:
        """Whether the cluster's jobs take input and leave output (workflows need both)."""

    @abstractmethod
    def cluster_kind(self, account: Account, cluster: str) -> str:
        """docker, kubernetes, mesos...; ``NotFound`` for a cluster the account cannot use."""

    # scheduled jobs
    @abstractmethod
    async def list_scheduled_jobs(
        self, account: Account, clusters: Collection[str] | None = None
    ) -> Listing[ScheduledJob]: ...

    @abstractmethod
    async def get_scheduled_job(
        self, account: Account, cluster: str, job_id: str
    ) -> ScheduledJob: ...

    @abstractmethod
    async def create_scheduled_job(
        self, account: Account, spec: ScheduledJobSpec
    ) -> ScheduledJob: ...

    @abstractmethod
    async def update_scheduled_job(
        self, account: Account, cluster: str, job_id: str, spec: ScheduledJobSpec
    ) -> ScheduledJob: ...

    @abstractmethod
    async def delete_scheduled_job(self, account: Account, cluster: str, job_id: str) -> None: ...


class ClusterOrchestrator(Orchestrator):
    """One cluster, composed from its kind's backends.

    Every call runs under this cluster's own timeout, and transport failures
    that a backend let through become typed ``ClusterError``s naming the cluster.
    With caches enabled, lists come from a ``ClusterCache`` kept current by the
    kind's change feed, and writes through Asgard show in it at once.
    """

    def __init__(
        self,
        *,
        name: str,
        kind: str,
        client: ClusterClient,
        agents: AgentsBackend,
        apps: AppsBackend,
        jobs: JobsBackend | None = None,
        scheduled_jobs: ScheduledJobsBackend | None = None,
        timeout_s: float = 10.0,
        write_timeout_s: float = 120.0,
        feed: ClusterFeed | None = None,
    ) -> None:
        self.name = name
        self.kind = kind
        self.client = client
        self.agents = agents
        self.apps = apps
        self.jobs = jobs or JobsBackend(name, kind)
        self.scheduled_jobs = scheduled_jobs or ScheduledJobsBackend(name, kind)
        self.timeout_s = timeout_s
        self.write_timeout_s = write_timeout_s
        self.feed = feed
        """The kind's change feed; without one, a cache polls (``PollingFeed``)."""
        self.cache: ClusterCache | None = None
        self.resync_s = 30.0
        self.poll_s = 10.0
        self.breaker = Breaker(
            name,
            lambda: self.call(self.client.version),
            down_after_s=max(10.0, 3 * timeout_s),
            alive=lambda: self.cache is not None and self.cache.connected,
        )
        """Lets reads of this cluster fail at once while it is known to be down."""

    def cluster_names(self) -> list[str]:
        return [self.name]

    def schedule_with(self, make: Callable[[str, str], ScheduledJobsBackend]) -> None:
        if type(self.scheduled_jobs) is ScheduledJobsBackend:
            self.scheduled_jobs = make(self.name, self.kind)

    def enable_caches(self, hub: EventHub) -> None:
        self.cache = ClusterCache(
            self.name,
            {
                "agents": self.agents.list_agents,
                "apps": self.apps.list_apps,
                "tasks": self.apps.list_all_tasks,
                "jobs": self.jobs.list_jobs,
            },
            self.feed or PollingFeed(self.poll_s),
            hub,
            resync_s=self.resync_s,
            timeout_s=max(self.write_timeout_s, self.timeout_s),
        )

    async def call(self, fn: Callable[[], Awaitable[T]], timeout_s: float | None = None) -> T:
        """Run one backend call within the cluster's timeout, with failures typed."""
        limit = self.timeout_s if timeout_s is None else timeout_s
        try:
            async with asyncio.timeout(limit):
                return await fn()
        except AsgardError:
            raise
        except TimeoutError as exc:
            raise ClusterTimeout(
                self.name, f"cluster {self.name} did not answer in {limit:g} s"
            ) from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise ClusterUnreachable(
                self.name, f"cluster {self.name} is unreachable: {exc}"
            ) from exc

    async def _read(
        self, resource: Resource, account: Account, live: Callable[[], Awaitable[list[T]]]
    ) -> Listing[T]:
        self.breaker.check()
        cache = self.cache
        try:
            if cache is None:
                items, as_of = await self.call(live), utc_now()
            else:
                items, as_of = await self.call(lambda: cache.read(resource, account))
        except ClusterError as exc:
            self.breaker.failed(exc)
            raise
        self.breaker.succeeded()
        return Listing(items=items, as_of={self.name: as_of})

    def _wrote(
        self,
        resource: Resource,
        account: Account,
        item: App | Job | None,
        deleted: str | None = None,
    ) -> None:
        if self.cache is not None:
            self.cache.wrote(resource, account, item, deleted)

    def _check(self, account: Account, cluster: str) -> None:
        if cluster != self.name or not account.may_use(cluster):
            raise NotFound(f"unknown cluster '{cluster}'", field="cluster", cluster=cluster)

    def _selected(self, account: Account, clusters: Collection[str] | None) -> bool:
        return account.may_use(self.name) and (clusters is None or self.name in clusters)

    async def cluster_statuses(self, account: Account | None) -> list[ClusterStatus]:
        if account is not None and not account.may_use(self.name):
            return []
        return [await self.status()]

    async def status(self) -> ClusterStatus:
        started = time.perf_counter()
        cache: Literal["current", "behind", "off"] = (
            "off" if self.cache is None else "current" if self.cache.current else "behind"
        )
        try:
            version = await self.call(self.client.version)
        except ClusterError as exc:
            self.breaker.failed(exc)
            return ClusterStatus(
                name=self.name,
                kind=self.kind,
                status="unreachable",
                error=exc.msg,
                cache="off" if cache == "off" else "behind",  # nothing new can reach it
            )
        self.breaker.succeeded()
        latency_ms = round((time.perf_counter() - started) * 1000, 2)
        return ClusterStatus(
            name=self.name,
            kind=self.kind,
            status="ok",
            version=version,
            latency_ms=latency_ms,
            cache=cache,
        )

    def _backends(self) -> tuple[_Backend, ...]:
        return (self.agents, self.apps, self.jobs, self.scheduled_jobs)

    async def start(self) -> None:
        for backend in self._backends():
            await backend.start()
        if self.cache is not None:
            await self.cache.start()

    async def close(self) -> None:
        await self.breaker.close()
        if self.cache is not None:
            await self.cache.close()
        for backend in self._backends():
            await backend.close()
        await self.client.close()

    async def list_agents(
        self, account: Account, clusters: Collection[str] | None = None
    ) -> Listing[Agent]:
        if not self._selected(account, clusters):
            return Listing()
        return await self._read("agents", account, lambda: self.agents.list_agents(account))

    async def get_agent(self, account: Account, cluster: str, agent_id: str) -> Agent:
        self._check(account, cluster)
        return await self.call(lambda: self.agents.get_agent(account, agent_id))

    async def list_agent_apps(self, account: Account, cluster: str, agent_id: str) -> list[App]:
        self._check(account, cluster)
        return await self.call(lambda: self.agents.list_agent_apps(account, agent_id))

    async def list_apps(
        self, account: Account, clusters: Collection[str] | None = None
    ) -> Listing[App]:
        if not self._selected(account, clusters):
            return Listing()
        return await self._read("apps", account, lambda: self.apps.list_apps(account))

    async def get_app(self, account: Account, cluster: str, app_id: str) -> App:
        self._check(account, cluster)
        return await self.call(lambda: self.apps.get_app(account, app_id))

    async def create_app(self, account: Account, spec: AppSpec) -> App:
        self._check(account, spec.cluster)
        app = await self.call(lambda: self.apps.create_app(account, spec), self.write_timeout_s)
        self._wrote("apps", account, app)
        return app

    async def update_app(self, account: Account, cluster: str, app_id: str, patch: AppPatch) -> App:
        self._check(account, cluster)
        app = await self.call(
            lambda: self.apps.update_app(account, app_id, patch), self.write_timeout_s
        )
        self._wrote("apps", account, app)
        return app

    async def delete_app(self, account: Account, cluster: str, app_id: str) -> None:
        self._check(account, cluster)
        await self.call(lambda: self.apps.delete_app(account, app_id), self.write_timeout_s)
        self._wrote("apps", account, None, deleted=app_id)

    async def restart_app(self, account: Account, cluster: str, app_id: str) -> App:
        self._check(account, cluster)
        app = await self.call(lambda: self.apps.restart_app(account, app_id), self.write_timeout_s)
        self._wrote("apps", account, app)
        return app

    async def list_tasks(self, account: Account, cluster: str, app_id: str) -> list[Task]:
        self._check(account, cluster)
        return await self.call(lambda: self.apps.list_tasks(account, app_id))

    async def app_stats(
        self, account: Account, cluster: str, app_id: str, window: StatsWindow
    ) -> AppStats:
        self._check(account, cluster)
        return await self.call(lambda: self.apps.app_stats(account, app_id, window))

    async def app_logs(
        self, account: Account, cluster: str, app_id: str, *, tail: int, follow: bool
    ) -> LogStream:
        self._check(account, cluster)
        return await self.call(
            lambda: self.apps.app_logs(account, app_id, tail=tail, follow=follow)
        )

    async def list_jobs(
        self, account: Account, clusters: Collection[str] | None = None
    ) -> Listing[Job]:
        if not self._selected(account, clusters):
            return Listing()
        return await self._read("jobs", account, lambda: self.jobs.list_jobs(account))

    async def create_job(
        self,
        account: Account,
        spec: JobSpec,
        input_zip: bytes | None,
        mount: WorkspaceMount | None = None,
    ) -> Job:
        self._check(account, spec.cluster)
        job = await self.call(
            lambda: self.jobs.create_job(account, spec, input_zip, mount), self.write_timeout_s
        )
        self._wrote("jobs", account, job)
        return job

    async def create_workspace(
        self, account: Account, cluster: str, name: str, volume: WorkflowVolume
    ) -> None:
        self._check(account, cluster)
        await self.call(
            lambda: self.jobs.create_workspace(account, name, volume), self.write_timeout_s
        )

    async def delete_workspace(self, account: Account, cluster: str, name: str) -> None:
        self._check(account, cluster)
        await self.call(lambda: self.jobs.delete_workspace(account, name), self.write_timeout_s)

    async def get_job(self, account: Account, cluster: str, job_id: str) -> Job:
        self._check(account, cluster)
        return await self.call(lambda: self.jobs.get_job(account, job_id))

    async def delete_job(self, account: Account, cluster: str, job_id: str) -> None:
        self._check(account, cluster)
        await self.call(lambda: self.jobs.delete_job(account, job_id), self.write_timeout_s)
        self._wrote("jobs", account, None, deleted=job_id)

    async def job_logs(
        self, account: Account, cluster: str, job_id: str, *, follow: bool
    ) -> LogStream:
        self._check(account, cluster)
        return await self.call(lambda: self.jobs.job_logs(account, job_id, follow=follow))

    async def job_output(self, account: Account, cluster: str, job_id: str) -> bytes:
        self._check(account, cluster)
        return await self.call(lambda: self.jobs.job_output(account, job_id))

    def carries_job_files(self, account: Account, cluster: str) -> bool:
        self._check(account, cluster)
        return self.jobs.carries_files

    def cluster_kind(self, account: Account, cluster: str) -> str:
        self._check(account, cluster)
        return self.kind

    async def settle_job(self, account: Account, cluster: str, job_id: str) -> None:
        self._check(account, cluster)
        await self.call(lambda: self.jobs.settle_job(account, job_id))

    async def list_scheduled_jobs(
        self, account: Account, clusters: Collection[str] | None = None
    ) -> Listing[ScheduledJob]:
        if not self._selected(account, clusters):
            return Listing()
        items = await self.call(lambda: self.scheduled_jobs.list_scheduled_jobs(account))
        return Listing(items=items, as_of={self.name: utc_now()})

    async def get_scheduled_job(self, account: Account, cluster: str, job_id: str) -> ScheduledJob:
        self._check(account, cluster)
        return await self.call(lambda: self.scheduled_jobs.get_scheduled_job(account, job_id))

    async def create_scheduled_job(self, account: Account, spec: ScheduledJobSpec) -> ScheduledJob:
        self._check(account, spec.cluster)
        return await self.call(
            lambda: self.scheduled_jobs.create_scheduled_job(account, spec), self.write_timeout_s
        )

    async def update_scheduled_job(
        self, account: Account, cluster: str, job_id: str, spec: ScheduledJobSpec
    ) -> ScheduledJob:
        self._check(account, cluster)
        return await self.call(
            lambda: self.scheduled_jobs.update_scheduled_job(account, job_id, spec),
            self.write_timeout_s,
        )

    async def delete_scheduled_job(self, account: Account, cluster: str, job_id: str) -> None:
        self._check(account, cluster)
        await self.call(
            lambda: self.scheduled_jobs.delete_scheduled_job(account, job_id), self.write_timeout_s
        )
