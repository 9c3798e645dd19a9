"""Chronos jobs <-> Asgard's scheduled and one-time jobs. Pure functions, no I/O."""

from __future__ import annotations

import json
import re
from typing import Any

from asgard.backends.common import Json, parse_time
from asgard.backends.mesos.converters import DEFAULT_CPUS, DEFAULT_MEM
from asgard.errors import InvalidValue, NotFound
from asgard.models import (
    Account,
    Job,
    JobSpec,
    JobStatus,
    ResourceLimits,
    Schedule,
    ScheduledJob,
    ScheduledJobSpec,
)
from asgard.models.base import DNS_LABEL

_LABEL = re.compile(DNS_LABEL)
META_ENV = "ASGARD_META"
"""Environment variable holding what Chronos has no field for (labels, the command's length)."""
SEPARATOR = "_"
"""Ends the namespace in a Chronos job name. Namespaces and job names are DNS labels, which
never hold ``_`` (Chronos takes it), so a name has one owner: with ``-``, scheduled job
``b-nightly`` of namespace ``team`` and ``nightly`` of ``team-b`` were one Chronos job."""
ONE_TIME_MARK = "_once_"
"""In a Chronos job name between the namespace and the job id: a one-time job. Scheduled jobs
are named ``<namespace>_<name>`` and names have no ``_``, so the two never mix."""


def _label(name: str, what: str) -> str:
    """A name or id to put in a Chronos job name: a DNS label, or no job of the account
    (``../x`` or ``b_x`` would name another's, or none)."""
    if len(name) > 63 or not _LABEL.fullmatch(name):
        raise NotFound(f"{what} '{name}' not found")
    return name


def chronos_name(account: Account, name: str) -> str:
    return f"{account.namespace}{SEPARATOR}{_label(name, 'scheduled job')}"


def scheduled_name(account: Account, chronos_job_name: str) -> str | None:
    """The scheduled job's name if the Chronos job is one of the account's, else None."""
    prefix = f"{account.namespace}{SEPARATOR}"
    if not chronos_job_name.startswith(prefix):
        return None
    name = chronos_job_name.removeprefix(prefix)
    return name if name and SEPARATOR not in name else None


def one_time_name(account: Account, job_id: str) -> str:
    return f"{account.namespace}{ONE_TIME_MARK}{_label(job_id, 'job')}"


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
    name = str(job["name"]).removeprefix(f"{account.namespace}{SEPARATOR}")
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
