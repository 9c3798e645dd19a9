"""One line per cluster and the fleet's totals: pure arithmetic over what the clusters hold.

Each part of a cluster's line (its agents' sums, what their meters say, its apps' and its
jobs' counts) is a function of one listing of that cluster, so ``FleetService`` can keep
it while the listing's cache entry keeps its version: a thousand clusters of which ten
changed cost ten sums, not a thousand. What depends on the time (a job failed within the
last 24 hours) is kept as times and counted when asked.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final, Literal

from asgard.models import Agent, App, ClusterErrorInfo, ClusterStatus, Job, Resources, UsageStats

__all__ = [
    "STATES",
    "AgentSums",
    "AppCounts",
    "ClusterState",
    "ClusterSummary",
    "FleetTotals",
    "JobCounts",
    "MeteredSums",
    "agent_sums",
    "app_counts",
    "app_failing",
    "cluster_summary",
    "fleet_rows",
    "fleet_totals",
    "job_counts",
    "job_failed_recently",
    "metered_sums",
]

ClusterState = Literal["ok", "degraded", "down", "stale", "unknown"]
STATES: Final[tuple[ClusterState, ...]] = ("down", "stale", "degraded", "unknown", "ok")
"""Worst first: the order the fleet is shown in by default."""
RECENT: Final = timedelta(hours=24)
NOTHING: Final = Resources.model_construct(cpus=0.0, mem=0.0)


def _nothing() -> Resources:
    """The one zero every empty part shares (never changed: parts are made anew)."""
    return NOTHING


def app_failing(app: App) -> bool:
    """Failed, or running fewer instances than asked for while not deploying."""
    if app.status == "failed":
        return True
    wanted = app.instances.desired
    return app.status not in ("deploying", "suspended") and app.instances.running < wanted


def _failed_at(job: Job) -> datetime | None:
    return job.status.finished_at or job.status.started_at or job.created_at


def job_failed_recently(job: Job, now: datetime) -> bool:
    if job.status.state != "failed":
        return False
    when = _failed_at(job)
    return when is None or now - when <= RECENT


# the parts of one cluster's line, each from one listing


@dataclass(frozen=True)
class AgentSums:
    agents: int = 0
    active: int = 0
    allocated: Resources = field(default_factory=_nothing)
    capacity: Resources = field(default_factory=_nothing)


@dataclass(frozen=True)
class MeteredSums:
    """What the meters of ``agents`` of the cluster's agents last said is in use, against
    what those agents have (``capacity``): the share is of the metered agents, not all."""

    agents: int = 0
    in_use: Resources = field(default_factory=_nothing)
    capacity: Resources = field(default_factory=_nothing)


@dataclass(frozen=True)
class AppCounts:
    running: int = 0
    failing: int = 0


@dataclass(frozen=True)
class JobCounts:
    running: int = 0
    failed_at: tuple[datetime | None, ...] = ()
    """When each failed job failed (None: unknown, counted as recent)."""
    ids: frozenset[str] = frozenset()
    """The jobs the cluster has: a record of another is a job that vanished from it."""

    def failed_since(self, now: datetime) -> int:
        return sum(1 for at in self.failed_at if at is None or now - at <= RECENT)

    def plus(self, jobs: Iterable[Job]) -> JobCounts:
        more = job_counts(jobs)
        return JobCounts(
            self.running + more.running, self.failed_at + more.failed_at, self.ids | more.ids
        )


def _resources(cpus: float, mem: float) -> Resources:
    return Resources.model_construct(cpus=cpus, mem=mem)


def agent_sums(agents: Iterable[Agent]) -> AgentSums:
    """In plain floats, one ``Resources`` at the end: thousands of agents stay cheap."""
    count = active = 0
    used_cpus = used_mem = cpus = mem = 0.0
    for agent in agents:
        count += 1
        active += agent.active
        used_cpus += agent.used_resources.cpus
        used_mem += agent.used_resources.mem
        cpus += agent.resources.cpus
        mem += agent.resources.mem
    return AgentSums(count, active, _resources(used_cpus, used_mem), _resources(cpus, mem))


def metered_sums(
    agents: Iterable[Agent], measured: Callable[[Agent], Resources | None]
) -> MeteredSums:
    """``measured``: what an agent's meter last said is in use, None for no meter."""
    count = 0
    used_cpus = used_mem = cpus = mem = 0.0
    for agent in agents:
        in_use = measured(agent)
        if in_use is None:
            continue
        count += 1
        used_cpus += in_use.cpus
        used_mem += in_use.mem
        cpus += agent.resources.cpus
        mem += agent.resources.mem
    return MeteredSums(count, _resources(used_cpus, used_mem), _resources(cpus, mem))


def app_counts(apps: Iterable[App]) -> AppCounts:
    running = failing = 0
    for app in apps:
        running += app.status == "running"
        failing += app_failing(app)
    return AppCounts(running, failing)


def job_counts(jobs: Iterable[Job]) -> JobCounts:
    running = 0
    failed: list[datetime | None] = []
    ids: set[str] = set()
    for job in jobs:
        ids.add(job.id)
        running += job.status.state == "running"
        if job.status.state == "failed":
            failed.append(_failed_at(job))
    return JobCounts(running, tuple(failed), frozenset(ids))


# one cluster's line


@dataclass
class ClusterSummary:
    name: str
    kind: str
    state: ClusterState
    reason: str | None
    last_contact_at: datetime | None
    stale_since: datetime | None
    version: str | None
    latency_ms: float | None
    agents: int = 0
    agents_active: int = 0
    allocated: Resources = field(default_factory=_nothing)
    capacity: Resources = field(default_factory=_nothing)
    measured: Resources = field(default_factory=_nothing)
    """In use, as the meters of ``measured_agents`` of the agents said."""
    measured_agents: int = 0
    measured_capacity: Resources = field(default_factory=_nothing)
    """What the metered agents have: ``measured`` is a share of this, not of all."""
    apps_running: int = 0
    apps_failing: int = 0
    jobs_running: int = 0
    jobs_failed_24h: int = 0

    @property
    def usage(self) -> UsageStats:
        return UsageStats.of(self.allocated, self.capacity)


def _state(
    status: ClusterStatus, failure: ClusterErrorInfo | None
) -> tuple[ClusterState, str | None, datetime | None]:
    since = failure.stale_since if failure else None
    if status.status == "unreachable" or failure is not None:
        reason = (failure.msg if failure else None) or status.error or "unreachable"
        if since is not None:
            return "stale", reason, since
        return ("down" if status.status == "unreachable" else "degraded"), reason, None
    if status.last_contact_at is None:
        return "unknown", "not asked yet", None
    if status.cache == "behind":
        return "degraded", "its change feed is down: lists are read live", None
    return "ok", None, None


def cluster_summary(
    status: ClusterStatus,
    failure: ClusterErrorInfo | None,
    agents: AgentSums,
    metered: MeteredSums,
    apps: AppCounts,
    jobs: JobCounts,
    now: datetime,
) -> ClusterSummary:
    state, reason, since = _state(status, failure)
    if state == "ok" and agents.active < agents.agents:
        state = "degraded"
        reason = f"{agents.agents - agents.active} of {agents.agents} agents inactive"
    return ClusterSummary(
        name=status.name,
        kind=status.kind,
        state=state,
        reason=reason,
        last_contact_at=status.last_contact_at,
        stale_since=since,
        version=status.version,
        latency_ms=status.latency_ms,
        agents=agents.agents,
        agents_active=agents.active,
        allocated=agents.allocated,
        capacity=agents.capacity,
        measured=metered.in_use,
        measured_agents=metered.agents,
        measured_capacity=metered.capacity,
        apps_running=apps.running,
        apps_failing=apps.failing,
        jobs_running=jobs.running,
        jobs_failed_24h=jobs.failed_since(now),
    )


def fleet_rows(
    statuses: Sequence[ClusterStatus],
    errors: Iterable[ClusterErrorInfo],
    agents: Iterable[Agent],
    apps: Iterable[App],
    jobs: Iterable[Job],
    now: datetime,
    measured: Mapping[tuple[str, str], Resources] | None = None,
) -> list[ClusterSummary]:
    """Every cluster's line from flat listings (by name): the same arithmetic as the
    service's, for one-off use. ``measured``: in use by (cluster, agent id)."""
    failures: dict[str, ClusterErrorInfo] = {}
    for error in errors:
        failures.setdefault(error.cluster, error)
    by_cluster: dict[str, tuple[list[Agent], list[App], list[Job]]] = defaultdict(
        lambda: ([], [], [])
    )
    for agent in agents:
        by_cluster[agent.cluster][0].append(agent)
    for app in apps:
        by_cluster[app.cluster][1].append(app)
    for job in jobs:
        by_cluster[job.cluster][2].append(job)
    meters = measured or {}
    rows = []
    for status in statuses:
        mine, its_apps, its_jobs = by_cluster.get(status.name, ([], [], []))
        rows.append(
            cluster_summary(
                status,
                failures.get(status.name),
                agent_sums(mine),
                metered_sums(mine, lambda a: meters.get((a.cluster, a.id))),
                app_counts(its_apps),
                job_counts(its_jobs),
                now,
            )
        )
    return sorted(rows, key=lambda r: r.name)


# the fleet's totals


@dataclass(frozen=True)
class FleetTotals:
    clusters: int
    by_state: dict[str, int]
    by_kind: dict[str, int]
    agents: int
    allocated: Resources
    capacity: Resources
    measured: Resources
    measured_agents: int
    measured_capacity: Resources
    apps_running: int
    apps_failing: int
    jobs_running: int
    jobs_failed_24h: int

    @property
    def usage(self) -> UsageStats:
        return UsageStats.of(self.allocated, self.capacity)


def fleet_totals(rows: Sequence[ClusterSummary]) -> FleetTotals:
    """Over every line given: the whole fleet the account may use, whatever is shown."""
    by_state: dict[str, int] = defaultdict(int)
    by_kind: dict[str, int] = defaultdict(int)
    agents = measured_agents = running = failing = jobs_running = jobs_failed = 0
    for row in rows:
        by_state[row.state] += 1
        by_kind[row.kind] += 1
        agents += row.agents
        measured_agents += row.measured_agents
        running += row.apps_running
        failing += row.apps_failing
        jobs_running += row.jobs_running
        jobs_failed += row.jobs_failed_24h
    return FleetTotals(
        clusters=len(rows),
        by_state=dict(by_state),
        by_kind=dict(by_kind),
        agents=agents,
        allocated=Resources.total(r.allocated for r in rows),
        capacity=Resources.total(r.capacity for r in rows),
        measured=Resources.total(r.measured for r in rows),
        measured_agents=measured_agents,
        measured_capacity=Resources.total(r.measured_capacity for r in rows),
        apps_running=running,
        apps_failing=failing,
        jobs_running=jobs_running,
        jobs_failed_24h=jobs_failed,
    )
