"""The aiohttp application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import structlog
from aiohttp import web

from asgard.backends.base import Orchestrator
from asgard.clusters import build_fleet, cluster_configs
from asgard.db.engine import Database, upgrade
from asgard.events import EventHub
from asgard.http.errors import error_middleware
from asgard.http.metrics import Metrics
from asgard.http.middlewares import add_request_id, authenticate, request_context
from asgard.http.openapi import OPENAPI, build_openapi
from asgard.http.routes import (
    accounts,
    agents,
    apps,
    clusters,
    events,
    jobs,
    scheduled_jobs,
    system,
    users,
    workflows,
)
from asgard.http.routing import Operation, bind
from asgard.http.state import METRICS, SERVICES, Services
from asgard.reconciler import Reconciler
from asgard.scheduling.backend import AsgardScheduledJobsBackend
from asgard.scheduling.scheduler import Scheduler
from asgard.services.bootstrap import Bootstrapped, bootstrap
from asgard.settings import Settings
from asgard.workflows.feed import WorkflowFeed
from asgard.workflows.runner import WorkflowRunner

log = structlog.get_logger(__name__)

ROUTE_MODULES = (
    system,
    clusters,
    agents,
    apps,
    jobs,
    workflows,
    scheduled_jobs,
    events,
    users,
    accounts,
)


def operations() -> list[Operation]:
    return [op for module in ROUTE_MODULES for op in module.routes.operations]


def create_app(
    settings: Settings,
    *,
    orchestrator: Orchestrator | None = None,
    hub: EventHub | None = None,
    announce: Callable[[Bootstrapped], None] | None = None,
) -> web.Application:
    """An Asgard application. Without ``orchestrator``, the clusters come from settings
    (with their caches, feeding ``/events``); an orchestrator given is used as it is, and
    ``hub`` should be the one its caches were enabled with.

    On start it migrates the database, and on an empty database creates the first
    administrator; ``announce`` is given the new key (the CLI prints it, once).
    """
    app = web.Application(
        middlewares=[request_context, error_middleware, authenticate],
        client_max_size=settings.max_upload_bytes + 1024 * 1024,
    )
    app[METRICS] = Metrics()

    def body_limit(_request: web.Request) -> int:
        return settings.max_body_bytes

    ops = operations()
    for op in ops:
        app.router.add_route(op.method, op.path, bind(op, body_limit))
    app[OPENAPI] = build_openapi(ops)
    app.on_response_prepare.append(add_request_id)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        db = Database(settings.db_url)
        await upgrade(settings.db_url)
        events = hub or EventHub()
        fleet = orchestrator
        if fleet is None:
            configs = await cluster_configs(settings)
            fleet = await build_fleet(configs, settings.backend_context(), events)
        fleet.schedule_with(lambda name, kind: AsgardScheduledJobsBackend(name, kind, db))
        runner = WorkflowRunner(
            db, fleet, tick_s=settings.workflow_tick_s, retention_s=settings.job_retention_s
        )
        workflow_feed = WorkflowFeed(db, events, interval_s=settings.workflow_tick_s)
        app[SERVICES] = Services.build(settings, db, fleet, events, poke=runner.poke)
        await fleet.start()
        await runner.start()
        scheduler = Scheduler(
            db,
            fleet,
            tick_s=settings.scheduler_tick_s,
            starting_deadline_s=settings.starting_deadline_s,
        )
        await scheduler.start()
        reconciler = Reconciler(
            db,
            fleet,
            interval_s=settings.reconcile_s,
            orphan_grace_s=settings.orphan_grace_s,
            retention_s=settings.job_retention_s,
        )
        await reconciler.start()
        created = await bootstrap(db, app[SERVICES].auth, settings.bootstrap_admin_email)
        if created is not None:
            log.info("created the first administrator", email=created.user.email)
            if announce is not None:
                announce(created)
        log.info("asgard started", clusters=fleet.cluster_names())
        yield
        await reconciler.close()
        await scheduler.close()
        await runner.close()
        await workflow_feed.close()
        if orchestrator is None:
            await fleet.close()
        await db.close()

    app.cleanup_ctx.append(lifecycle)
    return app
