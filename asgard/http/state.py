"""What the application holds for its handlers, under typed keys."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from asgard.backends.orchestrator import Orchestrator
from asgard.db.engine import Database
from asgard.events import EventHub
from asgard.http.metrics import Metrics
from asgard.http.throttle import FailureThrottle
from asgard.job_tokens import JobGrant, JobTokens
from asgard.registered_clusters import RegisteredClusters
from asgard.services.accounts import AccountsService
from asgard.services.agents import AgentsService
from asgard.services.apps import AppsService
from asgard.services.audit import AuditService
from asgard.services.audit_writer import AuditWriter
from asgard.services.auth import Authenticator, Credentials
from asgard.services.cluster_registry import ClusterRegistry
from asgard.services.clusters import ClustersService
from asgard.services.dashboard_sessions import DashboardSessions
from asgard.services.fleet import FleetService
from asgard.services.fleet_state import FleetState
from asgard.services.health import HealthService
from asgard.services.jobs import JobFilesService, JobsService
from asgard.services.open_streams import OpenStreams
from asgard.services.principal import Principal
from asgard.services.scheduled_jobs import ScheduledJobsService
from asgard.services.users import UsersService
from asgard.services.workflows import WorkflowsService
from asgard.settings import Settings
from asgard.usage_history import UsageHistory


@dataclass
class Services:
    """What handlers (API routes and dashboard pages) are given: services, never the
    database or the ``Orchestrator``, which only ``build`` sees to wire them."""

    settings: Settings
    auth: Authenticator
    sessions: DashboardSessions
    users: UsersService
    accounts: AccountsService
    clusters: ClustersService
    cluster_registry: ClusterRegistry
    agents: AgentsService
    fleet: FleetService
    apps: AppsService
    jobs: JobsService
    scheduled_jobs: ScheduledJobsService
    job_files: JobFilesService
    job_tokens: JobTokens
    events: EventHub
    workflows: WorkflowsService
    throttle: FailureThrottle
    audit: AuditService
    streams: OpenStreams
    health: HealthService
    fleet_state: FleetState

    @classmethod
    def build(
        cls,
        settings: Settings,
        db: Database,
        orchestrator: Orchestrator,
        events: EventHub,
        poke: Callable[[], None] | None = None,
        history: UsageHistory | None = None,
        registered: RegisteredClusters | None = None,
    ) -> Services:
        """``poke`` tells the workflow runner that a workflow was created; ``history`` is
        the agents' usage history (none: every agent's history is empty); ``registered``
        serves the clusters registered through the API (none: a change is served by the
        processes that follow the registry, not this one)."""
        auth = authenticator(settings, db)
        context = settings.backend_context()
        registry = ClusterRegistry(
            db,
            orchestrator,
            settings.cluster_key_ring(),
            context,
            file_names=registered.file_names
            if registered is not None
            else frozenset(orchestrator.cluster_names()),
            apply=registered.step if registered is not None else None,
        )
        jobs = JobsService(orchestrator, db, context.artifacts, settings.archive_limits())
        agents = AgentsService(orchestrator, history)
        if registered is not None:
            registered.on_removed(agents.forget_cluster)
        return cls(
            settings=settings,
            auth=auth,
            sessions=DashboardSessions(
                db, auth, ttl_s=settings.session_ttl_s, cache_s=settings.auth_cache_s
            ),
            users=UsersService(db, changed=auth.forget),
            accounts=AccountsService(db, changed=auth.forget, reserved=settings.namespace_rules()),
            clusters=ClustersService(orchestrator),
            cluster_registry=registry,
            agents=agents,
            fleet=FleetService(orchestrator, jobs, history),
            apps=AppsService(orchestrator, db),
            jobs=jobs,
            scheduled_jobs=ScheduledJobsService(orchestrator, jobs),
            job_files=JobFilesService(context.artifacts),
            job_tokens=context.job_tokens,
            events=events,
            workflows=WorkflowsService(orchestrator, db, poke),
            throttle=FailureThrottle(settings.auth_failure_limit),
            audit=AuditService(
                db,
                AuditWriter(db, timeout_s=settings.audit_write_timeout_s),
                retention_days=settings.audit_retention_days,
            ),
            streams=OpenStreams(db, period_s=settings.auth_cache_s),
            health=HealthService(db),
            fleet_state=FleetState(orchestrator, db, per_account=settings.metrics_per_account),
        )


def authenticator(settings: Settings, db: Database) -> Authenticator:
    """Keys, tokens and sessions checked against ``db``, as ``settings`` says."""
    return Authenticator(
        db,
        signing_key=settings.signing_key(),
        jwt_ttl_s=settings.jwt_ttl_s,
        cache_s=settings.auth_cache_s,
    )


SERVICES = web.AppKey("services", Services)
METRICS = web.AppKey("metrics", Metrics)
PRINCIPAL = web.RequestKey("principal", Principal)
CREDENTIALS = web.RequestKey("credentials", Credentials)
"""What the request authenticated with (its key, session): what its streams are held by."""
JOB_GRANT = web.RequestKey("job_grant", JobGrant)
REQUEST_ID = web.RequestKey("request_id", str)


def services(request: web.Request) -> Services:
    return request.app[SERVICES]


def job_grant(request: web.Request) -> JobGrant:
    found = request.get(JOB_GRANT)
    if not isinstance(found, JobGrant):
        raise RuntimeError("job grant asked for on a route without a job token")
    return found


def principal(request: web.Request) -> Principal:
    found = request.get(PRINCIPAL)
    if not isinstance(found, Principal):
        raise RuntimeError("principal asked for on a route without authentication")
    return found
