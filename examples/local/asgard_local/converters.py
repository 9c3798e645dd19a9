"""The host, its apps' definitions and instances, and its job records -> Asgard's domain
models. Pure functions, no I/O: what the supervisor knows comes in as values."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from asgard.models import (
    Agent,
    App,
    AppInstances,
    AppVersion,
    Job,
    JobStatus,
    ResourceLimits,
    Resources,
    Task,
)
from asgard.models.app import AppStatus
from asgard.models.version import version_of
from asgard_local.client import HostFacts
from asgard_local.config import AGENT_TYPE
from asgard_local.store import AppRecord, JobRecord, SpecRecord
from asgard_local.supervisor import InstanceView

__all__ = [
    "CRASH_LOOP",
    "app_status",
    "declared",
    "host_to_agent",
    "instance_to_task",
    "record_to_app",
    "record_to_job",
    "record_to_versions",
]

CRASH_LOOP = 3
"""Ends in a row, each before the process was steady, after which an app is failed."""


def declared(limits: ResourceLimits) -> Resources:
    """What an instance or a job reserves: what its spec declares (nothing is measured)."""
    return Resources(cpus=limits.cpus or 0.0, mem=limits.mem or 0.0)


def host_to_agent(
    facts: HostFacts,
    *,
    cluster: str,
    attributes: dict[str, str],
    used: Iterable[ResourceLimits],
    total_apps: int,
) -> Agent:
    return Agent(
        id=facts.hostname,
        cluster=cluster,
        type=AGENT_TYPE,
        hostname=facts.hostname,
        active=True,
        version=facts.kernel,
        attributes=attributes,
        resources=Resources(cpus=facts.cpus, mem=facts.mem_mib, disk=facts.disk_mib),
        used_resources=Resources.total(declared(u) for u in used),
        total_apps=total_apps,
    )


def app_status(desired: int, instances: Sequence[InstanceView]) -> AppStatus:
    running = sum(1 for i in instances if i.state == "running")
    if desired == 0:
        return "suspended"
    if any(i.crashes >= CRASH_LOOP for i in instances):
        return "failed"
    if running >= desired and len(instances) == desired:
        return "running"
    return "deploying"


def record_to_app(record: AppRecord, instances: Sequence[InstanceView], *, cluster: str) -> App:
    spec = record.spec
    return App(
        cluster=cluster,
        id=spec.id,
        type=AGENT_TYPE,
        image=spec.image,
        cmd=spec.cmd,
        args=spec.args,
        env=spec.env,
        labels=spec.labels,
        resources=spec.resources,
        ports=spec.ports,
        constraints=spec.constraints,
        status=app_status(spec.instances, instances),
        instances=AppInstances(
            desired=spec.instances,
            running=sum(1 for i in instances if i.state == "running"),
        ),
        created_at=record.created_at,
        updated_at=record.updated_at,
    )


def record_to_versions(record: AppRecord, *, cluster: str) -> list[AppVersion]:
    """The specs an app ran, newest first, numbered from 1 for the first."""
    kept = record.history or [SpecRecord(number=1, spec=record.spec, deployed_at=record.created_at)]
    return [
        version_of(
            record_to_app(record.model_copy(update={"spec": k.spec}), [], cluster=cluster),
            id=str(k.number),
            created_at=k.deployed_at,
        )
        for k in reversed(kept)
    ]


def instance_to_task(
    instance: InstanceView, *, cluster: str, app_id: str, facts: HostFacts
) -> Task:
    return Task(
        id=instance.task_id,
        cluster=cluster,
        app_id=app_id,
        agent_id=facts.hostname,
        host=facts.hostname,
        state=instance.state,
        started_at=instance.started_at if instance.state == "running" else None,
        ports=[p.container_port for p in instance.spec.ports],
        message=instance.message,
    )


def record_to_job(record: JobRecord, status: JobStatus, *, cluster: str) -> Job:
    spec = record.spec
    return Job(
        cluster=cluster,
        id=record.id,
        name=spec.name,
        image=spec.image,
        command=spec.command,
        args=spec.args,
        env=spec.env,
        resources=spec.resources,
        timeout_s=spec.timeout_s,
        retries=spec.retries,
        labels=spec.labels,
        status=status,
        created_at=record.created_at,
    )
