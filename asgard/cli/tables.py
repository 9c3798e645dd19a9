"""The columns ``asgard get`` shows for each resource: the first ones always, the rest
with ``-o wide``. Pure functions of the API's models."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from asgard.cli.output import Table, when
from asgard.models import Agent, App, ClusterStatus, Job, ScheduledJob, Workflow

__all__ = ["COLUMNS", "Columns", "table_of"]


def _num(value: float | None, unit: str = "") -> str:
    return "-" if value is None else f"{value:g}{unit}"


def _pairs(values: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(values.items())) or "-"


def agent_row(a: Agent) -> list[str]:
    return [
        a.cluster,
        a.id,
        a.hostname,
        "yes" if a.active else "no",
        f"{a.stats.cpu_pct:g}%",
        f"{a.stats.ram_pct:g}%",
        str(a.total_apps),
        a.type,
        a.version or "-",
        _num(a.resources.cpus),
        _num(a.resources.mem, " MiB"),
        _pairs(a.attributes),
    ]


def app_row(a: App) -> list[str]:
    return [
        a.cluster,
        a.id,
        a.status,
        f"{a.instances.running}/{a.instances.desired}",
        a.image or "-",
        a.type,
        _num(a.resources.cpus),
        _num(a.resources.mem, " MiB"),
        when(a.updated_at),
    ]


def job_row(j: Job) -> list[str]:
    code = j.status.exit_code
    return [
        j.cluster,
        j.id,
        j.status.state,
        "-" if code is None else str(code),
        j.image or "-",
        when(j.created_at),
        when(j.status.started_at),
        when(j.status.finished_at),
        j.status.message or "-",
    ]


def workflow_row(w: Workflow) -> list[str]:
    done = sum(1 for s in w.stages if s.state == "succeeded")
    return [
        w.cluster,
        w.id,
        w.state,
        f"{done}/{len(w.stages)}",
        when(w.created_at),
        when(w.finished_at),
        " ".join(f"{s.name}:{s.state}" for s in w.stages),
        w.message or "-",
    ]


def scheduled_job_row(s: ScheduledJob) -> list[str]:
    return [
        s.cluster,
        s.id,
        s.schedule.value,
        "yes" if s.enabled else "no",
        when(s.next_run_at),
        s.image or "-",
        when(s.last_run_at),
        s.last_job_id or "-",
    ]


def cluster_row(c: ClusterStatus) -> list[str]:
    return [
        c.name,
        c.kind,
        c.status,
        c.version or "-",
        "-" if c.latency_ms is None else f"{c.latency_ms:.1f} ms",
        when(c.last_contact_at),
        c.error or "-",
        c.source,
    ]


@dataclass(frozen=True)
class Columns:
    names: Sequence[str]
    wide_from: int
    row: Callable[[Any], list[str]]


COLUMNS: dict[type[BaseModel], Columns] = {
    Agent: Columns(
        (
            "CLUSTER",
            "ID",
            "HOSTNAME",
            "ACTIVE",
            "CPU",
            "RAM",
            "APPS",
            "TYPE",
            "VERSION",
            "CPUS",
            "MEM",
            "ATTRIBUTES",
        ),
        7,
        agent_row,
    ),
    App: Columns(
        ("CLUSTER", "ID", "STATUS", "RUNNING", "IMAGE", "TYPE", "CPUS", "MEM", "UPDATED"),
        5,
        app_row,
    ),
    Job: Columns(
        ("CLUSTER", "ID", "STATE", "EXIT", "IMAGE", "CREATED", "STARTED", "FINISHED", "MESSAGE"),
        6,
        job_row,
    ),
    Workflow: Columns(
        ("CLUSTER", "ID", "STATE", "STAGES", "CREATED", "FINISHED", "STAGE STATES", "MESSAGE"),
        5,
        workflow_row,
    ),
    ScheduledJob: Columns(
        ("CLUSTER", "ID", "SCHEDULE", "ENABLED", "NEXT RUN", "IMAGE", "LAST RUN", "LAST JOB"),
        6,
        scheduled_job_row,
    ),
    ClusterStatus: Columns(
        ("NAME", "KIND", "STATUS", "VERSION", "LATENCY", "LAST CONTACT", "ERROR", "SOURCE"),
        5,
        cluster_row,
    ),
}


def table_of(model: type[BaseModel], items: Sequence[BaseModel]) -> Table:
    columns = COLUMNS[model]
    return Table(columns.names, [columns.row(i) for i in items], wide_from=columns.wide_from)
