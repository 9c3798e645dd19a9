"""What state a job is in, read from the engine: one mapping for every way a job ends.

created -> pending; running or restarting -> running; exit 0 -> succeeded;
a non-zero exit, a dead container or an OOM kill -> failed once no retry is
left. An outcome Asgard recorded itself (it stopped the job at ``timeout_s``)
comes first: the engine only knows the container was killed, not why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from asgard.backends.common import Json, parse_time
from asgard.backends.docker import labels as L
from asgard.backends.docker.converters import env_dict
from asgard.models import Job, JobStatus, ResourceLimits
from asgard.models.job import JobState

MiB = 1024 * 1024
NANO = 1e9

OUTCOME = "outcome"
"""The note (``ArtifactStore.save_note``) where Asgard records an end it caused."""


@dataclass(frozen=True)
class Outcome:
    state: JobState
    message: str
    finished_at: datetime | None

    def as_note(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "message": self.message,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
        }

    @classmethod
    def from_note(cls, note: Mapping[str, Any] | None) -> Outcome | None:
        if not note:
            return None
        return cls(
            state=note["state"],
            message=note["message"],
            finished_at=parse_time(note.get("finished_at")),
        )


def job_settings(labels: Mapping[str, str]) -> tuple[float | None, int]:
    """``timeout_s`` and ``retries``, kept as labels on what Asgard created."""
    timeout = labels.get(L.JOB_TIMEOUT)
    return (float(timeout) if timeout else None), int(labels.get(L.JOB_RETRIES) or 0)


def _exit_message(code: int, oom: bool, retries_used: int) -> str:
    after = (
        f" after {retries_used} retr{'y' if retries_used == 1 else 'ies'}" if retries_used else ""
    )
    if oom:
        return f"killed: out of memory{after}"
    return f"exited with code {code}{after}"


def container_status(inspected: Json, outcome: Outcome | None) -> JobStatus:
    """The status of a single engine's job container (an inspect)."""
    state = inspected.get("State") or {}
    labels = (inspected.get("Config") or {}).get("Labels") or {}
    _, retries = job_settings(labels)
    restarts = int(inspected.get("RestartCount") or 0)
    code = state.get("ExitCode")
    started = parse_time(state.get("StartedAt"))
    finished = parse_time(state.get("FinishedAt"))
    if outcome is not None:
        return JobStatus(
            state=outcome.state,
            failed=restarts + 1 if outcome.state == "failed" else restarts,
            exit_code=code if state.get("Status") in ("exited", "dead") else None,
            started_at=started,
            finished_at=outcome.finished_at or finished,
            message=outcome.message,
        )
    status = state.get("Status", "")
    if status == "created":
        return JobStatus(state="pending", message="created, not started yet")
    if status in ("running", "restarting", "paused"):
        message = f"running (retry {restarts} of {retries})" if restarts else "running"
        return JobStatus(
            state="running", active=1, failed=restarts, started_at=started, message=message
        )
    final = code == 0 or restarts >= retries or status == "dead"
    if not final:
        return JobStatus(
            state="running",
            failed=restarts + 1,
            started_at=started,
            exit_code=code,
            message=f"exited with code {code}; the engine will retry",
        )
    if code == 0 and status != "dead":
        return JobStatus(
            state="succeeded",
            succeeded=1,
            failed=restarts,
            exit_code=0,
            started_at=started,
            finished_at=finished,
            message=_exit_message(0, False, restarts),
        )
    message = (
        "the container is dead"
        if status == "dead"
        else _exit_message(code or 0, bool(state.get("OOMKilled")), restarts)
    )
    return JobStatus(
        state="failed",
        failed=restarts + 1,
        exit_code=code,
        started_at=started,
        finished_at=finished,
        message=message,
    )


SWARM_PENDING = {
    "new",
    "allocated",
    "pending",
    "assigned",
    "accepted",
    "preparing",
    "ready",
    "starting",
}


def service_status(tasks: Sequence[Json], retries: int, outcome: Outcome | None) -> JobStatus:
    """The status of a Swarm replicated job from its tasks (every attempt is a task)."""
    ordered = sorted(tasks, key=lambda t: t.get("CreatedAt", ""))
    failed = [t for t in ordered if t.get("Status", {}).get("State") in ("failed", "rejected")]
    done = [t for t in ordered if t.get("Status", {}).get("State") == "complete"]
    latest = ordered[-1] if ordered else None
    started = parse_time(ordered[0].get("Status", {}).get("Timestamp")) if ordered else None
    latest_status = (latest or {}).get("Status", {})
    code = (latest_status.get("ContainerStatus") or {}).get("ExitCode")
    if outcome is not None:
        return JobStatus(
            state=outcome.state,
            failed=len(failed) + (outcome.state == "failed" and not failed),
            exit_code=code,
            started_at=started,
            finished_at=outcome.finished_at,
            message=outcome.message,
        )
    if done:
        return JobStatus(
            state="succeeded",
            succeeded=1,
            failed=len(failed),
            exit_code=0,
            started_at=started,
            finished_at=parse_time(done[-1].get("Status", {}).get("Timestamp")),
            message=_exit_message(0, False, len(failed)),
        )
    if len(failed) > retries:
        err = latest_status.get("Err") or ""
        message = _exit_message(
            code if code is not None else -1, "OOM" in err.upper(), len(failed) - 1
        )
        if code is None and err:
            message = err
        return JobStatus(
            state="failed",
            failed=len(failed),
            exit_code=code,
            started_at=started,
            finished_at=parse_time(latest_status.get("Timestamp")),
            message=message,
        )
    if latest is None or latest_status.get("State") in SWARM_PENDING:
        if failed:
            return JobStatus(
                state="running",
                failed=len(failed),
                started_at=started,
                message=f"attempt {len(failed)} failed; the Swarm will retry",
            )
        return JobStatus(state="pending", message="waiting for the Swarm to start it")
    return JobStatus(
        state="running", active=1, failed=len(failed), started_at=started, message="running"
    )


def job_from(
    *,
    cluster: str,
    job_id: str,
    labels: Mapping[str, str],
    image: str,
    command: list[str] | None,
    args: list[str] | None,
    env: list[str] | None,
    resources: ResourceLimits,
    status: JobStatus,
) -> Job:
    timeout, retries = job_settings(labels)
    return Job(
        cluster=cluster,
        id=job_id,
        name=labels.get(L.JOB_NAME, job_id),
        image=image,
        command=command or None,
        args=args or None,
        env=env_dict(env),
        resources=resources,
        timeout_s=timeout,
        retries=retries,
        labels=L.user_labels(labels),
        status=status,
        created_at=parse_time(labels.get(L.CREATED_AT)),
    )
