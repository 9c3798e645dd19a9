"""Starting and stopping Asgard: one cleanup context per subsystem.

Each subsystem is an aiohttp ``cleanup_ctx`` generator: it starts its part, yields,
and stops it. aiohttp enters them in order and unwinds the ones it entered in
reverse, so a failure while starting (a cluster file that cannot be read, a first
administrator that cannot be created) stops exactly what had started, last first,
and nothing is left running behind a server that never served.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Protocol

import structlog
from aiohttp import web

from asgard.backends.orchestrator import Orchestrator
from asgard.clusters import build_fleet, cluster_configs
from asgard.db.engine import Database, upgrade
from asgard.events import EventHub
from asgard.http.state import SERVICES, Services
from asgard.leases import LeasedLoop, Leases, process_holder
from asgard.reconciler import Reconciler
from asgard.registered_clusters import RegisteredClusters
from asgard.scheduling.backend import AsgardScheduledJobsBackend
from asgard.scheduling.scheduler import Scheduler
from asgard.services.bootstrap import Bootstrapped, bootstrap
from asgard.settings import Settings
from asgard.usage_history import UsageHistory
from asgard.workflows.feed import WorkflowFeed
from asgard.workflows.runner import WorkflowRunner

__all__ = ["RUNNING", "SUBSYSTEMS", "Running", "stopping"]

log = structlog.get_logger(__name__)

Context = Callable[[web.Application], AsyncIterator[None]]


class Background(Protocol):
    """Work that runs in the background between ``start`` and ``close``."""

    async def start(self) -> None: ...

    async def close(self) -> None: ...


@dataclass
class Running:
    """What the subsystems started so far hand to the ones after them."""

    settings: Settings
    hub: EventHub
    given: Orchestrator | None
    announce: Callable[[Bootstrapped], None] | None
    db: Database | None = None
    fleet: Orchestrator | None = None
    registered: RegisteredClusters | None = None
    """The clusters registered through the API, served beside the file's."""
    runner: WorkflowRunner | None = None
    history: UsageHistory | None = None
    leased: list[Background] = field(default_factory=list)
    """The work that holds a lease (runner, scheduler, reconciler, the backends'
    janitors): stopped as soon as shutdown begins, so its lease goes to another process
    at once."""
    ready: bool = False
    """Every subsystem started and the process is not stopping (``GET /ready``)."""
    stopping: bool = False
    """Shutdown has begun: streams that would hold it up (followed logs) end."""

    def database(self) -> Database:
        assert self.db is not None, "the database context runs first"
        return self.db

    def orchestrator(self) -> Orchestrator:
        assert self.fleet is not None, "the clusters context runs before this one"
        return self.fleet


RUNNING = web.AppKey("running", Running)


async def database(app: web.Application) -> AsyncIterator[None]:
    running = app[RUNNING]
    settings = running.settings
    await upgrade(settings.db_url)
    running.db = Database(settings.db_url)
    await running.db.notices.start()
    yield
    await running.db.close()


async def clusters(app: web.Application) -> AsyncIterator[None]:
    running = app[RUNNING]
    settings = running.settings
    db = running.database()
    fleet = running.given
    # The backends' janitors run once per deployment, by lease, given up early on
    # shutdown as the other leased work is.
    context = settings.backend_context(Leases(db, running.leased.append))
    if fleet is None:
        fleet = await build_fleet(await cluster_configs(settings), context, running.hub)
    fleet.schedule_with(lambda name, kind: AsgardScheduledJobsBackend(name, kind, db))
    fleet.tell_health(running.hub)
    running.fleet = fleet
    running.registered = RegisteredClusters(
        db,
        fleet,
        context,
        running.hub,
        settings.cluster_key_ring(),
        poll_s=settings.clusters_poll_s,
        file_names=fleet.cluster_names(),
    )
    try:
        await fleet.start()
        async with started(running.registered):
            yield
    finally:
        if running.given is None:  # an orchestrator given is its owner's to close
            await fleet.close()


@contextlib.asynccontextmanager
async def started(work: Background, running: Running | None = None) -> AsyncIterator[None]:
    """Run ``work`` for as long as the context; with ``running``, it holds a lease, to be
    given up as soon as shutdown begins (``stopping``)."""
    await work.start()
    if running is not None:
        running.leased.append(work)
    try:
        yield
    finally:
        await work.close()


async def stopping(app: web.Application) -> None:
    """The first step of shutdown (aiohttp's ``on_shutdown``, once the listening sockets
    are closed, before in-flight requests are waited for): the process says it is not
    ready, gives its leases up so another process takes the background work over now
    rather than when the leases run out, and ends ``/events`` streams with a ``retry``
    hint so their clients reconnect to another replica instead of holding the shutdown
    up for its whole grace period."""
    running = app[RUNNING]
    if running.stopping:  # told already (``serve_until_stopped``, then aiohttp's cleanup)
        return
    running.ready = False
    running.stopping = True  # followed logs end within a second (asgard.http.streaming)
    running.hub.close_streams()
    for work in running.leased:
        with contextlib.suppress(Exception):
            await work.close()
    log.info("asgard stopping: leases given up, event streams ended")


async def workflows(app: web.Application) -> AsyncIterator[None]:
    running = app[RUNNING]
    settings = running.settings
    running.runner = WorkflowRunner(
        running.database(),
        running.orchestrator(),
        tick_s=settings.workflow_tick_s,
        retention_s=settings.job_retention_s,
    )
    async with started(running.runner, running):
        yield


async def usage_history(app: web.Application) -> AsyncIterator[None]:
    running = app[RUNNING]
    settings = running.settings
    running.history = UsageHistory(
        running.orchestrator(),
        interval_s=settings.history_interval_s,
        window_s=settings.history_window_s,
    )
    async with started(running.history):
        yield


async def services(app: web.Application) -> AsyncIterator[None]:
    running = app[RUNNING]
    settings = running.settings
    poke = running.runner.poke if running.runner is not None else None
    app[SERVICES] = Services.build(
        settings,
        running.database(),
        running.orchestrator(),
        running.hub,
        poke=poke,
        history=running.history,
        registered=running.registered,
    )
    async with started(app[SERVICES].streams):  # open streams checked every auth cache time
        yield


async def audit_log(app: web.Application) -> AsyncIterator[None]:
    """The writer of audit entries, and the removal of old ones (by lease: one process)."""
    running = app[RUNNING]
    settings = running.settings
    audit = app[SERVICES].audit
    retention = LeasedLoop(
        running.database(),
        "audit-retention",
        audit.prune,
        every_s=settings.audit_prune_s,
        ttl_s=max(10.0, settings.audit_prune_s * 3),
        holder=process_holder(audit),
    )
    # The writer runs to the end, for the requests still in flight when shutdown begins;
    # the retention gives its lease up then, as the other leased work does.
    async with started(audit.writer), started(retention, running):
        yield


async def workflow_events(app: web.Application) -> AsyncIterator[None]:
    running = app[RUNNING]
    settings = running.settings
    feed = WorkflowFeed(running.database(), running.hub, interval_s=settings.workflow_tick_s)
    yield
    await feed.close()


async def scheduler(app: web.Application) -> AsyncIterator[None]:
    running = app[RUNNING]
    settings = running.settings
    scheduling = Scheduler(
        running.database(),
        running.orchestrator(),
        tick_s=settings.scheduler_tick_s,
        starting_deadline_s=settings.starting_deadline_s,
    )
    async with started(scheduling, running):
        yield


async def reconciler(app: web.Application) -> AsyncIterator[None]:
    running = app[RUNNING]
    settings = running.settings
    reconciling = Reconciler(
        running.database(),
        running.orchestrator(),
        interval_s=settings.reconcile_s,
        orphan_grace_s=settings.orphan_grace_s,
        retention_s=settings.job_retention_s,
    )
    async with started(reconciling, running):
        yield


async def first_start(app: web.Application) -> AsyncIterator[None]:
    running = app[RUNNING]
    settings = running.settings
    created = await bootstrap(
        running.database(), app[SERVICES].auth, settings.bootstrap_admin_email
    )
    if created is not None:
        log.info("created the first administrator", email=created.user.email)
        if running.announce is not None:
            running.announce(created)
    log.info("asgard started", clusters=running.orchestrator().cluster_names())
    running.ready = True
    yield
    running.ready = False


SUBSYSTEMS: list[Context] = [
    database,
    clusters,
    workflows,
    usage_history,
    services,
    audit_log,
    workflow_events,
    scheduler,
    reconciler,
    first_start,
]
