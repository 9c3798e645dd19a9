"""The contract every cluster kind fulfils: what a kind does, each operation spelled once.

A kind gives Asgard its ``ClusterParts``: a ``ClusterClient`` (reachability and
version), the four backends (agents, apps, jobs, scheduled jobs), a change feed and its
``Capabilities``. The core (``asgard.backends.cluster``) puts every operation of every
part under the cluster's timeouts, circuit breaker and cache, and the ``Orchestrator``
runs it on the cluster a request names, or on all of them.

Backends are scoped by account: they receive the ``Account`` and answer only with what
belongs to its namespace (apps, jobs) or owner (agents), pushing that down to the
cluster (a label selector, a group prefix), which only the backend knows how to ask.

Whatever the cluster answers is the cluster's error: an answer a backend cannot use (a
404 on a listing or a probe, HTML, JSON cut short or of another shape, a body over the
entry's cap, a stalled or reset stream) raises a ``ClusterError`` naming the cluster and
what was wrong (``UnusableAnswer``), never ``NotFound`` nor a parser's exception;
``asgard.backends.answers`` reads answers so for the built-in kinds.

An operation a kind cannot do raises ``NotSupported`` (HTTP 501). The reads that define a
kind (agents and apps) are abstract; the rest default to ``NotSupported``, so a new kind
can start small and grow. Each operation carries its mark (``asgard.backends.operations``):
whether it reads or writes, what it shows in the cache, and the ``Capabilities`` it needs
(``@needs``, or its part's), which the core refuses on a cluster lacking them.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, NoReturn

from asgard.backends.feeds import ClusterFeed, ItemReader, Nudges
from asgard.backends.operations import Part, claim, listing, needs, read, write
from asgard.errors import NotFound, NotSupported
from asgard.models import (
    Account,
    Agent,
    App,
    AppPatch,
    AppSpec,
    AppStats,
    AppVersion,
    Capabilities,
    Job,
    JobSpec,
    LogLine,
    Resources,
    ScheduledJob,
    ScheduledJobSpec,
    StatsWindow,
    Task,
    WorkflowVolume,
)

__all__ = [
    "AgentsBackend",
    "AppsBackend",
    "Backend",
    "ClusterClient",
    "ClusterParts",
    "JobsBackend",
    "LogLines",
    "LogStream",
    "ScheduledJobsBackend",
    "WorkspaceMount",
]

LogStream = AsyncIterator[bytes]
"""Log output as it arrives. Obtained with ``await``, so a missing app fails before streaming."""

LogLines = AsyncIterator[LogLine]
"""A task's log lines as they arrive; obtained with ``await`` as a ``LogStream`` is."""


class ClusterClient(ABC):
    """The connection to one cluster: what every backend of that cluster shares."""

    names_parts: ClassVar[bool] = False
    """Whether its transport names the server each request reaches
    (``asgard.backends.health.calling``). Then a call that reached none (one Asgard answers
    from its own records) says nothing of the cluster's health; without it, every call that
    succeeds counts as the cluster answering."""

    @abstractmethod
    async def version(self) -> str:
        """The cluster's version; raises a ``ClusterError`` when it does not answer."""

    @abstractmethod
    async def close(self) -> None:
        """Release connections. Called once, on shutdown."""


class Backend:
    """What all backends of one cluster know: which cluster, and of what kind.

    A contract class names its part (``class AppsBackend(Backend, part="apps")``): the
    operations it declares run on that part of whichever cluster a request names, needing
    the capability the class names (``needs="apps"``)."""

    def __init_subclass__(
        cls, part: Part | None = None, needs: str | None = None, **kwargs: Any
    ) -> None:
        super().__init_subclass__(**kwargs)
        if part is not None:
            claim(cls, part, needs)

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


class AgentsBackend(Backend, ABC, part="agents"):
    @abstractmethod
    @listing(cached="agents")
    async def list_agents(self, account: Account) -> list[Agent]:
        """The agents of this cluster that the account may see (its ``owner``)."""

    @abstractmethod
    @read
    async def get_agent(self, account: Account, agent_id: str) -> Agent:
        """One agent; ``NotFound`` when unknown or not the account's."""

    @abstractmethod
    @read
    async def list_agent_apps(self, account: Account, agent_id: str) -> list[App]:
        """The account's apps with an instance on that agent (never another account's)."""

    @read
    async def measure_agents(self, account: Account) -> dict[str, Resources]:
        """What the agents' own meters say is busy now, by agent id: CPU cores in use and
        resident memory in MiB, where ``used_resources`` says what is allocated (requests,
        reservations). Reading meters costs the cluster a sample (container statistics,
        the metrics API), so only the usage history asks, once per interval, never a
        listing. An agent the kind cannot meter is left out; a kind with no meter at all
        answers ``{}``, as here. Callers keep only the agents ``list_agents`` gave them."""
        return {}


class AppsBackend(Backend, ABC, part="apps", needs="apps"):
    @abstractmethod
    @listing(cached="apps")
    async def list_apps(self, account: Account) -> list[App]:
        """The apps of the account's namespace, ids without the namespace."""

    @abstractmethod
    @read
    async def get_app(self, account: Account, app_id: str) -> App:
        """One app; ``NotFound`` when it is not in the account's namespace."""

    @abstractmethod
    @read
    async def list_tasks(self, account: Account, app_id: str) -> list[Task]:
        """The app's current instances."""

    @listing(cached="tasks")
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

    @needs("app_writes")
    @write(shows="apps")
    async def create_app(self, account: Account, spec: AppSpec) -> App:
        """Deploy; ``Conflict`` when the id is taken, ``InvalidValue`` for an unknown image."""
        self.unsupported("creating apps")

    @needs("app_writes")
    @write(shows="apps")
    async def update_app(self, account: Account, app_id: str, patch: AppPatch) -> App:
        """Apply the patch and redeploy; ``instances`` 0 suspends and keeps the definition."""
        self.unsupported("updating apps")

    @needs("app_writes")
    @write(removes="apps")
    async def delete_app(self, account: Account, app_id: str) -> None:
        """Remove the app and everything created for it."""
        self.unsupported("deleting apps")

    @needs("app_writes")
    @write(shows="apps")
    async def restart_app(self, account: Account, app_id: str) -> App:
        """Replace every instance."""
        self.unsupported("restarting apps")

    @needs("app_versions")
    @read
    async def app_versions(self, account: Account, app_id: str) -> list[AppVersion]:
        """The specs the app ran, newest first (the first is the one it runs), as far back
        as the cluster remembers; ``NotFound`` for an unknown app. Ids are the cluster's own
        names for its versions (a revision, a timestamp), or ``spec_hash`` of the spec where
        it has none (``asgard.models.version.version_of`` makes one from an ``App``). A
        version whose spec an ``AppSpec`` cannot say is listed with ``unsupported`` saying
        why. Asgard adds the older specs it deployed itself, and who deployed each one."""
        self.unsupported("app versions")

    @needs("app_versions")
    @read
    async def app_version(self, account: Account, app_id: str, version: str) -> AppVersion:
        """One of ``app_versions`` by its id; ``NotFound`` when the cluster keeps no such
        version. Kinds that can ask for one version alone should; this default lists them."""
        for found in await self.app_versions(account, app_id):
            if found.id == version:
                return found
        raise NotFound(f"app '{app_id}' has no version '{version}'", cluster=self.cluster)

    @needs("app_versions", "app_writes")
    @write(shows="apps")
    async def rollback_app(self, account: Account, app_id: str, version: AppVersion) -> App:
        """Deploy ``version.spec`` again, as an update would (its count included). The
        version is one ``app_versions`` listed or one Asgard recorded; a kind may use its
        own rollback where the id names a version it keeps. ``Conflict`` where the kind
        refuses while a deployment of the app is in progress."""
        self.unsupported("rolling back apps")

    @needs("app_stats")
    @read
    async def app_stats(self, account: Account, app_id: str, window: StatsWindow) -> AppStats:
        """CPU and memory use summed over the instances."""
        self.unsupported("app stats")

    @needs("app_logs")
    @read
    async def app_logs(
        self, account: Account, app_id: str, *, tail: int, follow: bool
    ) -> LogStream:
        """The last ``tail`` lines of every instance, then new ones while ``follow``."""
        self.unsupported("app logs")

    @needs("app_logs")
    @read
    async def task_logs(
        self,
        account: Account,
        app_id: str,
        task_id: str,
        *,
        tail: int,
        since: datetime | None,
        follow: bool,
    ) -> LogLines:
        """One task's lines, each with its time and stream, in the order the task wrote them:
        the last ``tail`` of them, of those the ones from ``since`` on, then new ones while
        ``follow`` until the task ends. ``NotFound`` (field ``task_id``) for a task the app
        does not have. Lines of many tasks are merged by time in one place
        (``asgard.backends.log_merge``), so a kind only reads one task. Lines with no times
        of their own: ``log_since`` false, and ``since`` refused (by Asgard first)."""
        self.unsupported("task logs")


@dataclass(frozen=True)
class WorkspaceMount:
    """Where a workflow stage's job keeps its files, in the workflow's shared volume
    (``workspace``): ``/input`` is the folder ``input_dir`` (the stage before wrote it;
    None: an empty ``/input``), ``/output`` the folder ``output_dir``, made if missing."""

    workspace: str
    input_dir: str | None
    output_dir: str


class JobsBackend(Backend, part="jobs", needs="jobs"):
    """One-time jobs: create, read, delete; their logs and the files they leave.

    A kind that carries files (``Capabilities.job_files``) unpacks the input zip at
    ``/input`` before the command starts and keeps what the job wrote under ``/output``
    once it has ended; a kind with ``workflow_volumes`` runs a workflow's stages on one
    volume (``create_workspace``, then each stage's job with its ``WorkspaceMount``)."""

    @write(shows="jobs")
    async def create_job(
        self,
        account: Account,
        spec: JobSpec,
        input_zip: bytes | None,
        mount: WorkspaceMount | None = None,
    ) -> Job:
        """Start the job; its id is new (``asgard.models.job.new_job_id``)."""
        self.unsupported("one-time jobs")

    @needs("workflow_volumes")
    @write()
    async def create_workspace(self, account: Account, name: str, volume: WorkflowVolume) -> None:
        """Make the volume a workflow's stages share; nothing when it exists already."""
        self.unsupported("workflow volumes")

    @needs("workflow_volumes")
    @write()
    async def delete_workspace(self, account: Account, name: str) -> None:
        """Remove a workflow's volume and what it holds; nothing when it is gone already.
        Called once the stages' jobs are deleted."""
        self.unsupported("workflow volumes")

    @read
    async def get_job(self, account: Account, job_id: str) -> Job:
        """One job with its status as the cluster tells it now."""
        self.unsupported("one-time jobs")

    @listing(cached="jobs")
    async def list_jobs(self, account: Account) -> list[Job]:
        self.unsupported("one-time jobs")

    @write(removes="jobs")
    async def delete_job(self, account: Account, job_id: str) -> None:
        """Stop the job if it runs and remove everything it made, its stored files too."""
        self.unsupported("one-time jobs")

    @read
    async def job_logs(self, account: Account, job_id: str, *, follow: bool) -> LogStream:
        """What the job's command printed, then more while ``follow`` until it ends;
        ``NotFound`` for another account's job, even where ``job_logs`` is false (Asgard
        refuses job logs and output once the job is found)."""
        self.unsupported("job logs")

    @read
    async def job_output(self, account: Account, job_id: str) -> bytes:
        """A zip of what the job wrote under ``/output``; ``NotFound`` until it has finished."""
        self.unsupported("job output")

    @write()
    async def settle_job(self, account: Account, job_id: str) -> None:
        """Make sure what follows a job's end has happened (its output collected). The
        reconciler calls it when it sees a job finished; backends that keep nothing after
        a job, or collect on their own, need not override it."""


class ScheduledJobsBackend(Backend, part="scheduled_jobs", needs="scheduled_jobs"):
    """Scheduled jobs; a kind with no scheduler of its own gives none, and Asgard then
    keeps its schedules itself (``asgard.scheduling``)."""

    @listing()
    async def list_scheduled_jobs(self, account: Account) -> list[ScheduledJob]:
        self.unsupported("scheduled jobs")

    @read
    async def get_scheduled_job(self, account: Account, job_id: str) -> ScheduledJob:
        self.unsupported("scheduled jobs")

    @write()
    async def create_scheduled_job(self, account: Account, spec: ScheduledJobSpec) -> ScheduledJob:
        """The id is the spec's name; ``Conflict`` when the account has one by that name."""
        self.unsupported("scheduled jobs")

    @write()
    async def update_scheduled_job(
        self, account: Account, job_id: str, spec: ScheduledJobSpec
    ) -> ScheduledJob:
        self.unsupported("scheduled jobs")

    @write()
    async def delete_scheduled_job(self, account: Account, job_id: str) -> None:
        self.unsupported("scheduled jobs")


@dataclass
class ClusterParts:
    """What a kind's plugin makes for one cluster; the core assembles the rest (timeouts,
    breaker, cache, Asgard's own scheduler where ``scheduled_jobs`` is None)."""

    client: ClusterClient
    agents: AgentsBackend
    apps: AppsBackend
    jobs: JobsBackend | None = None
    """None: the kind runs no one-time jobs (every job operation answers 501)."""
    scheduled_jobs: ScheduledJobsBackend | None = None
    """None: the kind has no scheduler; Asgard keeps the cluster's schedules."""
    feed: ClusterFeed | None = None
    """How the cluster announces changes; None: caches poll every ``poll_s``."""
    items: ItemReader | None = None
    """How the cache reads only the items a signal names (``Signal.ids``); None: it reads
    every scope a signal touches again, whole."""
    capabilities: Capabilities = field(default_factory=Capabilities)
    """What the kind can do on this cluster: the core refuses what it lacks (501)."""
    nudges: Nudges | None = None
    """Where the kind's backends tell of changes the cluster announces nowhere."""
