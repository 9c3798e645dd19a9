"""How each merged table filters and sorts its rows: by state, words, CPU, memory, age."""

from __future__ import annotations

from typing import Final

from asgard.models import Agent, App, Job, ScheduledJob, Workflow
from asgard.services.fleet_summary import app_failing
from asgard.ui.listing import TableSpec, epoch, scaled

__all__ = ["AGENTS", "APPS", "JOBS", "SCHEDULED_JOBS", "WORKFLOWS", "agent_state"]

JOB_STATES: Final = ("failed", "running", "pending", "cancelled", "succeeded")
APP_STATES: Final = ("failed", "failing", "unknown", "deploying", "suspended", "running")


def rank(states: tuple[str, ...], value: str) -> int:
    """Worst first: a state's place in ``states``; an unknown one after them all."""
    return states.index(value) if value in states else len(states)


def agent_state(agent: Agent) -> str:
    return "active" if agent.active else "inactive"


AGENTS: Final = TableSpec[Agent](
    cluster=lambda a: a.cluster,
    id=lambda a: a.id,
    state=agent_state,
    text=lambda a: " ".join([a.hostname, a.id, *(f"{k}={v}" for k, v in a.attributes.items())]),
    sorts={
        "cpu": lambda a: scaled(a.stats.cpu_pct),
        "mem": lambda a: scaled(a.stats.ram_pct),
        "state": lambda a: int(a.active),
        "apps": lambda a: a.total_apps,
    },
    states=("active", "inactive"),
)


def _app_matches(app: App, state: str) -> bool:
    return app_failing(app) if state == "failing" else app.status == state


def app_cpus(app: App) -> float:
    """Cores the app asks for in all: what it takes of its cluster."""
    return (app.resources.cpus or 0.0) * app.instances.desired


def app_mem(app: App) -> float:
    return (app.resources.mem or 0.0) * app.instances.desired


APPS: Final = TableSpec[App](
    cluster=lambda a: a.cluster,
    id=lambda a: a.id,
    state=lambda a: a.status,
    text=lambda a: f"{a.id} {a.image}",
    sorts={
        "cpu": lambda a: scaled(app_cpus(a)),
        "mem": lambda a: scaled(app_mem(a)),
        "state": lambda a: rank(APP_STATES, a.status),
        "age": lambda a: -epoch(a.created_at),
    },
    states=APP_STATES,
    matches_state=_app_matches,
)

JOBS: Final = TableSpec[Job](
    cluster=lambda j: j.cluster,
    id=lambda j: j.id,
    state=lambda j: j.status.state,
    text=lambda j: f"{j.id} {j.name} {j.image} {j.status.message or ''}",
    sorts={
        "state": lambda j: rank(JOB_STATES, j.status.state),
        "age": lambda j: -epoch(j.created_at or j.status.started_at),
        "cpu": lambda j: scaled(j.resources.cpus),
        "mem": lambda j: scaled(j.resources.mem),
    },
    states=JOB_STATES,
)

WORKFLOWS: Final = TableSpec[Workflow](
    cluster=lambda w: w.cluster,
    id=lambda w: w.id,
    state=lambda w: w.state,
    text=lambda w: " ".join([w.id, w.name, w.message or "", *(s.name for s in w.stages)]),
    sorts={
        "state": lambda w: rank(JOB_STATES, w.state),
        "age": lambda w: -epoch(w.created_at),
    },
    states=JOB_STATES,
)


def schedule_state(job: ScheduledJob) -> str:
    return "enabled" if job.enabled else "disabled"


SCHEDULED_JOBS: Final = TableSpec[ScheduledJob](
    cluster=lambda s: s.cluster,
    id=lambda s: s.id,
    state=schedule_state,
    text=lambda s: f"{s.id} {s.image} {s.schedule.value} {s.description}",
    sorts={
        "state": lambda s: int(s.enabled),
        "age": lambda s: -epoch(s.last_run_at),
        "next": lambda s: epoch(s.next_run_at),
        "cpu": lambda s: scaled(s.resources.cpus),
        "mem": lambda s: scaled(s.resources.mem),
    },
    states=("enabled", "disabled"),
)
