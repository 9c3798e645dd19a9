"""Mesos, Marathon and Chronos objects <-> Asgard's domain models. Pure functions, no I/O."""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from asgard.errors import InvalidValue
from asgard.models import (
    Account,
    Agent,
    App,
    AppInstances,
    AppSpec,
    Job,
    JobSpec,
    JobStatus,
    Port,
    ResourceLimits,
    Resources,
    Schedule,
    ScheduledJob,
    ScheduledJobSpec,
    Task,
)
from asgard.models.app import AppStatus, from_marathon, split_constraint
from asgard.models.task import TaskState

Json = Mapping[str, Any]
AGENT_TYPE = "MESOS"
DEFAULT_CPUS = 0.1
DEFAULT_MEM = 128.0
META_ENV = "ASGARD_META"
"""Environment variable holding what Chronos has no field for (labels, the command's length)."""
ONE_TIME_MARK = "_once_"
"""In a Chronos job name between the namespace and the job id: a one-time job. Scheduled jobs
are named ``<namespace>-<name>`` and names have no ``_``, so the two never mix."""


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# agents


def _resources(found: Json | None) -> Resources:
    found = found or {}
    return Resources(
        cpus=float(found.get("cpus") or 0),
        mem=float(found.get("mem") or 0),
        disk=float(found.get("disk") or 0),
        gpus=float(found.get("gpus") or 0),
    )


def agent_to_model(agent: Json, *, cluster: str, total_apps: int, errors: dict[str, str]) -> Agent:
    return Agent(
        id=str(agent["id"]),
        cluster=cluster,
        type=AGENT_TYPE,
        hostname=str(agent.get("hostname", agent["id"])),
        active=bool(agent.get("active", False)),
        version=agent.get("version"),
        attributes={k: str(v) for k, v in (agent.get("attributes") or {}).items()},
        resources=_resources(agent.get("resources")),
        used_resources=_resources(agent.get("used_resources")),
        total_apps=total_apps,
        errors=errors,
    )


def app_of_executor(executor_id: str) -> tuple[str, str] | None:
    """``dev_infra_asgard_api.<uuid>`` -> ``("dev", "infra/asgard/api")``."""
    path = executor_id.split(".", 1)[0]
    parts = path.split("_")
    if len(parts) < 2 or not all(parts):
        return None
    return parts[0], "/".join(parts[1:])


# Marathon apps and tasks


def group_of(account: Account) -> str:
    return f"/{account.namespace}/"


def marathon_id(account: Account, app_id: str) -> str:
    return f"/{account.namespace}/{app_id}"


def asgard_id(account: Account, marathon_app_id: str) -> str:
    return marathon_app_id.removeprefix(group_of(account))


MARATHON_TASK_STATES: dict[str, TaskState] = {
    "TASK_RUNNING": "running",
    "TASK_FINISHED": "finished",
    "TASK_FAILED": "failed",
    "TASK_ERROR": "failed",
    "TASK_LOST": "failed",
    "TASK_DROPPED": "failed",
    "TASK_GONE": "failed",
    "TASK_UNREACHABLE": "failed",
    "TASK_KILLED": "killed",
    "TASK_KILLING": "killed",
}
"""TASK_STAGING, TASK_STARTING and anything else are staging."""


def task_to_model(task: Json, *, cluster: str, app_id: str) -> Task:
    return Task(
        id=str(task["id"]),
        cluster=cluster,
        app_id=app_id,
        agent_id=task.get("slaveId"),
        host=task.get("host"),
        state=MARATHON_TASK_STATES.get(str(task.get("state")), "staging"),
        started_at=parse_time(task.get("startedAt")),
        ports=[int(p) for p in task.get("ports") or []],
    )


def constraints_from_marathon(found: Iterable[list[str]]) -> list[str]:
    """``[field, op, value]`` as Asgard writes it. The owner constraint Asgard forces shows,
    as ``owner==<owner>``, as it does on every kind; what Asgard cannot express (UNIQUE,
    GROUP_BY, MAX_PER, regular expressions) is left out of the answer, not off Marathon."""
    result: list[str] = []
    for constraint in found:
        if len(constraint) != 3:
            continue
        try:
            said = from_marathon(*(str(part) for part in constraint))
        except ValueError:
            continue
        if said not in result:
            result.append(said)
    return result


def with_owner(found: Iterable[list[str]], owner: str | None) -> list[list[str]]:
    """An app's Marathon constraints as they are, with the account's owner constraint forced
    (an UNIQUE or GROUP_BY someone set on Marathon survives an update through Asgard)."""
    if owner is None:
        return [list(c) for c in found]
    kept = [list(c) for c in found if not (len(c) == 3 and c[0] == "owner" and c[1] == "LIKE")]
    return [*kept, ["owner", "LIKE", owner]]


def constraints_to_marathon(constraints: Iterable[str], owner: str | None) -> list[list[str]]:
    result = []
    for constraint in constraints:
        field, op, value = split_constraint(constraint)
        if owner is not None and (field, op, value) == ("owner", "==", owner):
            continue  # the forced one below says it
        result.append([field, "CLUSTER" if op == "==" else "UNLIKE", value])
    return with_owner(result, owner)


def _docker(app: Json) -> Json:
    container = app.get("container") or {}
    return container.get("docker") or {}


def _ports(app: Json) -> list[Port]:
    container = app.get("container") or {}
    mappings = _docker(app).get("portMappings") or container.get("portMappings") or []
    return [
        Port(
            container_port=int(m["containerPort"]),
            protocol="udp" if str(m.get("protocol", "tcp")).lower() == "udp" else "tcp",
            published_port=int(m["hostPort"]) if m.get("hostPort") else None,
        )
        for m in mappings
        if m.get("containerPort")
    ]


def app_status(app: Json, deploying: bool) -> tuple[AppStatus, AppInstances]:
    desired = int(app.get("instances") or 0)
    running = int(app.get("tasksRunning") or 0)
    healthy = (
        int(app["tasksHealthy"]) if app.get("healthChecks") and "tasksHealthy" in app else None
    )
    instances = AppInstances(desired=desired, running=running, healthy=healthy)
    if desired == 0:
        return "suspended", instances
    if deploying or app.get("deployments"):
        return "deploying", instances
    if running >= desired and (healthy is None or healthy >= desired):
        return "running", instances
    failure = app.get("lastTaskFailure") or {}
    if failure and (failure.get("version") or "") >= (app.get("version") or ""):
        return "failed", instances
    return "deploying", instances


def app_to_model(app: Json, *, account: Account, cluster: str, deploying: bool = False) -> App:
    status, instances = app_status(app, deploying)
    versions = app.get("versionInfo") or {}
    cmd = app.get("cmd")
    return App(
        cluster=cluster,
        id=asgard_id(account, str(app["id"])),
        type=AGENT_TYPE,
        image=str(_docker(app).get("image") or (app.get("container") or {}).get("image") or ""),
        cmd=shlex.split(cmd) if cmd else None,
        args=app.get("args") or None,
        env={
            k: str(v) for k, v in (app.get("env") or {}).items() if isinstance(v, str | int | float)
        },
        labels={k: str(v) for k, v in (app.get("labels") or {}).items()},
        resources=ResourceLimits(cpus=app.get("cpus") or None, mem=app.get("mem") or None),
        ports=_ports(app),
        constraints=constraints_from_marathon(app.get("constraints") or []),
        status=status,
        instances=instances,
        created_at=parse_time(versions.get("lastConfigChangeAt") or app.get("version")),
        updated_at=parse_time(app.get("version")),
    )


def app_to_marathon(account: Account, spec: AppSpec) -> dict[str, Any]:
    if spec.cmd and spec.args:
        raise InvalidValue("Marathon runs cmd or args, not both", field="cmd")
    body: dict[str, Any] = {
        "id": marathon_id(account, spec.id),
        "instances": spec.instances,
        "cpus": spec.resources.cpus or DEFAULT_CPUS,
        "mem": spec.resources.mem or DEFAULT_MEM,
        "env": dict(spec.env),
        "labels": dict(spec.labels),
        "constraints": constraints_to_marathon(spec.constraints, account.owner),
        "container": {
            "type": "DOCKER",
            "docker": {
                "image": spec.image,
                "network": "BRIDGE",
                "portMappings": [
                    {
                        "containerPort": p.container_port,
                        "hostPort": p.published_port or 0,
                        "protocol": p.protocol,
                    }
                    for p in spec.ports
                ],
            },
        },
    }
    if spec.cmd:
        body["cmd"] = shlex.join(spec.cmd)
    if spec.args:
        body["args"] = spec.args
    return body


# Chronos jobs


def chronos_name(account: Account, name: str) -> str:
    return f"{account.namespace}-{name}"


def one_time_name(account: Account, job_id: str) -> str:
    return f"{account.namespace}{ONE_TIME_MARK}{job_id}"


def _meta(job: Json) -> dict[str, Any]:
    for variable in job.get("environmentVariables") or []:
        if variable.get("name") == META_ENV:
            try:
                return dict(json.loads(variable.get("value") or "{}"))
            except ValueError:
                return {}
    return {}


def _chronos_command(spec: JobSpec | ScheduledJobSpec) -> tuple[str, list[str], int]:
    """Chronos runs ``command`` with ``arguments`` (``shell: false``); Asgard's command is
    split there, and its length kept, so it splits back the same way."""
    if not spec.command:
        raise InvalidValue("Chronos needs a command to run", field="command")
    return spec.command[0], [*spec.command[1:], *(spec.args or [])], len(spec.command)


def to_chronos(
    account: Account,
    spec: JobSpec | ScheduledJobSpec,
    *,
    name: str,
    schedule: str,
    tz: str,
    enabled: bool,
    concurrent: bool,
    description: str,
) -> dict[str, Any]:
    if spec.timeout_s is not None:
        raise InvalidValue(
            "Chronos cannot stop a run after a timeout; leave timeout_s out", field="timeout_s"
        )
    command, arguments, command_length = _chronos_command(spec)
    meta = {"labels": spec.labels, "command_length": command_length}
    job: dict[str, Any] = {
        "name": name,
        "command": command,
        "arguments": arguments,
        "shell": False,
        "schedule": schedule,
        "scheduleTimeZone": tz,
        "description": description,
        "disabled": not enabled,
        "concurrent": concurrent,
        "retries": spec.retries,
        "cpus": spec.resources.cpus or DEFAULT_CPUS,
        "mem": spec.resources.mem or DEFAULT_MEM,
        "environmentVariables": [
            *({"name": k, "value": v} for k, v in sorted(spec.env.items())),
            {"name": META_ENV, "value": json.dumps(meta, sort_keys=True)},
        ],
        "container": {
            "type": "DOCKER",
            "image": spec.image,
            "network": "BRIDGE",
            "forcePullImage": False,
        },
        "constraints": [["owner", "LIKE", account.owner]] if account.owner is not None else [],
    }
    return job


def _job_fields(job: Json) -> dict[str, Any]:
    meta = _meta(job)
    arguments = [str(a) for a in job.get("arguments") or []]
    command_length = int(meta.get("command_length") or 1)
    command = [str(job.get("command", "")), *arguments[: command_length - 1]]
    args = arguments[command_length - 1 :]
    return {
        "image": str((job.get("container") or {}).get("image") or ""),
        "command": command if command[0] else None,
        "args": args or None,
        "env": {
            str(v["name"]): str(v.get("value", ""))
            for v in job.get("environmentVariables") or []
            if v.get("name") != META_ENV
        },
        "resources": ResourceLimits(cpus=job.get("cpus") or None, mem=job.get("mem") or None),
        "retries": int(job.get("retries") or 0),
        "labels": {str(k): str(v) for k, v in (meta.get("labels") or {}).items()},
    }


def scheduled_to_chronos(account: Account, spec: ScheduledJobSpec) -> dict[str, Any]:
    if not spec.schedule.value.startswith("R"):
        raise InvalidValue(
            "Chronos takes ISO 8601 repeating intervals, e.g. R/2026-01-01T00:00:00Z/PT1H",
            field="schedule.value",
        )
    return to_chronos(
        account,
        spec,
        name=chronos_name(account, spec.name),
        schedule=spec.schedule.value,
        tz=spec.schedule.tz,
        enabled=spec.enabled,
        concurrent=spec.concurrent,
        description=spec.description,
    )


def chronos_to_scheduled(job: Json, *, account: Account, cluster: str) -> ScheduledJob:
    name = str(job["name"]).removeprefix(f"{account.namespace}-")
    return ScheduledJob(
        cluster=cluster,
        id=name,
        name=name,
        schedule=Schedule(
            value=str(job.get("schedule", "")), tz=str(job.get("scheduleTimeZone") or "UTC")
        ),
        enabled=not bool(job.get("disabled", False)),
        concurrent=bool(job.get("concurrent", False)),
        description=str(job.get("description") or ""),
        **_job_fields(job),
    )


def one_time_to_chronos(account: Account, spec: JobSpec, job_id: str) -> dict[str, Any]:
    return to_chronos(
        account,
        spec,
        name=one_time_name(account, job_id),
        schedule="R1//PT24H",
        tz="UTC",
        enabled=True,
        concurrent=False,
        description=f"asgard one-time job {spec.name}",
    )


def chronos_status(job: Json, summary: Json | None) -> JobStatus:
    """From Chronos' counts and its summary (``state``: idle, queued, running)."""
    state = str((summary or {}).get("state") or "idle")
    successes, errors = int(job.get("successCount") or 0), int(job.get("errorCount") or 0)
    retries = int(job.get("retries") or 0)
    if state.startswith("running"):
        return JobStatus(state="running", active=1, failed=errors, message="running")
    if successes:
        return JobStatus(
            state="succeeded",
            succeeded=successes,
            failed=errors,
            exit_code=0,
            finished_at=parse_time(job.get("lastSuccess")),
            message="the run succeeded",
        )
    if errors > retries:
        return JobStatus(
            state="failed",
            failed=errors,
            finished_at=parse_time(job.get("lastError")),
            message=f"failed {errors} time(s); Chronos does not report exit codes",
        )
    if errors:
        return JobStatus(
            state="running", failed=errors, message=f"failed {errors} time(s); Chronos retries it"
        )
    return JobStatus(state="pending", message="waiting for Chronos to run it")


def chronos_to_job(job: Json, summary: Json | None, *, account: Account, cluster: str) -> Job:
    job_id = str(job["name"]).removeprefix(f"{account.namespace}{ONE_TIME_MARK}")
    description = str(job.get("description") or "")
    return Job(
        cluster=cluster,
        id=job_id,
        name=description.removeprefix("asgard one-time job ") or job_id,
        status=chronos_status(job, summary),
        **_job_fields(job),
    )
