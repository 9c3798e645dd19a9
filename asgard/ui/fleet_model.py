"""The fleet page's rows: one per cluster, of any kind, from one listing per resource.

Pure functions over what the services answered, so the page costs one fan-out per
resource however many clusters there are, and the arithmetic can be tested alone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from asgard.models import Agent, App, ClusterErrorInfo, ClusterStatus, Job, Resources, UsageStats
from asgard.ui.sources import stale_since

__all__ = ["ClusterRow", "FleetTotals", "fleet_rows", "fleet_totals"]

ClusterState = Literal["ok", "degraded", "down", "stale"]
RECENT = timedelta(hours=24)


@dataclass
class ClusterRow:
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
    allocated: Resources = field(default_factory=Resources)
    capacity: Resources = field(default_factory=Resources)
    measured: Resources = field(default_factory=Resources)
    """In use, as the meters of ``measured_agents`` of the agents said."""
    measured_agents: int = 0
    measured_capacity: Resources = field(default_factory=Resources)
    """What the metered agents have: ``measured`` is a share of this, not of all."""
    apps_running: int = 0
    apps_failing: int = 0
    jobs_running: int = 0
    jobs_failed_24h: int = 0

    @property
    def usage(self) -> UsageStats:
        return UsageStats.of(self.allocated, self.capacity)


@dataclass
class FleetTotals:
    clusters: int
    by_state: dict[str, int]
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


def app_failing(app: App) -> bool:
    """Failed, or running fewer instances than asked for while not deploying."""
    if app.status == "failed":
        return True
    wanted = app.instances.desired
    return app.status not in ("deploying", "suspended") and app.instances.running < wanted


def job_failed_recently(job: Job, now: datetime) -> bool:
    if job.status.state != "failed":
        return False
    when = job.status.finished_at or job.status.started_at or job.created_at
    return when is None or now - when <= RECENT


def _state(
    status: ClusterStatus, failure: ClusterErrorInfo | None
) -> tuple[ClusterState, str | None, datetime | None]:
    since = stale_since(failure) if failure else None
    if status.status == "unreachable" or failure is not None:
        reason = (failure.msg if failure else None) or status.error or "unreachable"
        if since is not None:
            return "stale", reason, since
        return ("down" if status.status == "unreachable" else "degraded"), reason, None
    if status.cache == "behind":
        return "degraded", "its change feed is down: lists are read live", None
    return "ok", None, None


def fleet_rows(
    statuses: Sequence[ClusterStatus],
    errors: Iterable[ClusterErrorInfo],
    agents: Iterable[Agent],
    apps: Iterable[App],
    jobs: Iterable[Job],
    now: datetime,
    measured: Mapping[tuple[str, str], Resources] | None = None,
) -> list[ClusterRow]:
    """``measured``: what the agents' meters last said is in use, by (cluster, agent id)."""
    failures: dict[str, ClusterErrorInfo] = {}
    for error in errors:
        failures.setdefault(error.cluster, error)
    rows: dict[str, ClusterRow] = {}
    for status in statuses:
        state, reason, since = _state(status, failures.get(status.name))
        rows[status.name] = ClusterRow(
            name=status.name,
            kind=status.kind,
            state=state,
            reason=reason,
            last_contact_at=status.last_contact_at,
            stale_since=since,
            version=status.version,
            latency_ms=status.latency_ms,
        )
    _count_agents(rows, agents, measured or {})
    for counted in rows.values():
        if counted.state == "ok" and counted.agents_active < counted.agents:
            counted.state = "degraded"
            counted.reason = (
                f"{counted.agents - counted.agents_active} of {counted.agents} agents inactive"
            )
    for app in apps:
        row = rows.get(app.cluster)
        if row is not None:
            row.apps_running += app.status == "running"
            row.apps_failing += app_failing(app)
    for job in jobs:
        row = rows.get(job.cluster)
        if row is not None:
            row.jobs_running += job.status.state == "running"
            row.jobs_failed_24h += job_failed_recently(job, now)
    return sorted(rows.values(), key=lambda r: r.name)


def _count_agents(
    rows: dict[str, ClusterRow],
    agents: Iterable[Agent],
    measured: Mapping[tuple[str, str], Resources],
) -> None:
    """Sums in plain floats, one Resources per cluster at the end: 1,000 agents stay cheap.
    Per cluster: allocated, capacity, then in use and the capacity of the metered agents."""
    sums: dict[str, list[float]] = defaultdict(lambda: [0.0] * 8)
    for agent in agents:
        row = rows.get(agent.cluster)
        if row is None:
            continue
        row.agents += 1
        row.agents_active += agent.active
        s = sums[agent.cluster]
        s[0] += agent.used_resources.cpus
        s[1] += agent.used_resources.mem
        s[2] += agent.resources.cpus
        s[3] += agent.resources.mem
        in_use = measured.get((agent.cluster, agent.id))
        if in_use is not None:
            row.measured_agents += 1
            s[4] += in_use.cpus
            s[5] += in_use.mem
            s[6] += agent.resources.cpus
            s[7] += agent.resources.mem
    for name, s in sums.items():
        row = rows[name]
        row.allocated = Resources.model_construct(cpus=s[0], mem=s[1])
        row.capacity = Resources.model_construct(cpus=s[2], mem=s[3])
        row.measured = Resources.model_construct(cpus=s[4], mem=s[5])
        row.measured_capacity = Resources.model_construct(cpus=s[6], mem=s[7])


def fleet_totals(rows: Sequence[ClusterRow]) -> FleetTotals:
    by_state: dict[str, int] = defaultdict(int)
    for row in rows:
        by_state[row.state] += 1
    return FleetTotals(
        clusters=len(rows),
        by_state=dict(by_state),
        agents=sum(r.agents for r in rows),
        allocated=Resources.total(r.allocated for r in rows),
        capacity=Resources.total(r.capacity for r in rows),
        measured=Resources.total(r.measured for r in rows),
        measured_agents=sum(r.measured_agents for r in rows),
        measured_capacity=Resources.total(r.measured_capacity for r in rows),
        apps_running=sum(r.apps_running for r in rows),
        apps_failing=sum(r.apps_failing for r in rows),
        jobs_running=sum(r.jobs_running for r in rows),
        jobs_failed_24h=sum(r.jobs_failed_24h for r in rows),
    )
