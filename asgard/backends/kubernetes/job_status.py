"""A ``batch/v1`` Job as Asgard's ``Job``: its state and the reason from the Job's status,
its conditions (DeadlineExceeded, BackoffLimitExceeded) and its pods (exit code, OOM)."""

from __future__ import annotations

from asgard.backends.common import Json, parse_time
from asgard.backends.kubernetes import names as N
from asgard.backends.kubernetes.quantities import cpu_cores, mebibytes
from asgard.backends.kubernetes.records import PodRecord, job_exit
from asgard.models import Job, JobStatus, ResourceLimits

ROLE_COLLECTOR = "collector"
"""The role label of the Job that sends another Job's ``/output`` back to Asgard."""


def is_collector(job: Json) -> bool:
    return ((job.get("metadata") or {}).get("labels") or {}).get(N.ROLE_LABEL) == ROLE_COLLECTOR


def job_status(job: Json, pods: list[PodRecord]) -> JobStatus:
    """The counts from the Job's status; the state and the reason from its conditions
    (DeadlineExceeded, BackoffLimitExceeded) and its pods (exit code, OOM). A job whose
    output Asgard refused ended failed, whatever its exit, saying why."""
    status = _cluster_status(job, pods)
    annotations = (job.get("metadata") or {}).get("annotations") or {}
    refused = annotations.get(N.OUTPUT_REFUSED_ANNOTATION)
    if not refused or not status.finished:
        return status
    return status.model_copy(
        update={
            "state": "failed",
            "failed": max(status.failed, 1),
            "message": f"{status.message}; {refused}",
        }
    )


def _cluster_status(job: Json, pods: list[PodRecord]) -> JobStatus:
    status = job.get("status") or {}
    active, succeeded, failed = (int(status.get(k) or 0) for k in ("active", "succeeded", "failed"))
    conditions = {
        c.get("type"): c for c in status.get("conditions") or [] if c.get("status") == "True"
    }
    code, oom = job_exit(pods)
    started = parse_time(status.get("startTime"))
    annotations = (job.get("metadata") or {}).get("annotations") or {}
    if "Complete" in conditions or (succeeded and not active and "Failed" not in conditions):
        return JobStatus(
            state="succeeded",
            active=active,
            succeeded=succeeded,
            failed=failed,
            exit_code=code if code is not None else 0,
            started_at=started,
            finished_at=parse_time(status.get("completionTime"))
            or parse_time(conditions.get("Complete", {}).get("lastTransitionTime")),
            message="exited with code 0" + (f" after {failed} failed attempt(s)" if failed else ""),
        )
    if "Failed" in conditions:
        condition = conditions["Failed"]
        reason = condition.get("reason")
        if reason == "DeadlineExceeded":
            message = f"killed after its timeout of {annotations.get(N.TIMEOUT_ANNOTATION, '?')} s"
        elif oom:
            message = "killed: out of memory"
        elif reason == "BackoffLimitExceeded":
            message = (
                f"exited with code {code} after {max(failed - 1, 0)} retries"
                if code is not None
                else "failed every attempt"
            )
        else:
            message = condition.get("message") or reason or "failed"
        return JobStatus(
            state="failed",
            active=active,
            succeeded=succeeded,
            failed=max(failed, 1),
            exit_code=code,
            started_at=started,
            finished_at=parse_time(condition.get("lastTransitionTime")),
            message=message,
        )
    if active:
        return JobStatus(
            state="running", active=active, failed=failed, started_at=started, message="running"
        )
    return JobStatus(state="pending", failed=failed, message="waiting for the cluster to start it")


def job_to_model(job: Json, pods: list[PodRecord], *, cluster: str) -> Job:
    meta = job.get("metadata") or {}
    labels = meta.get("labels") or {}
    annotations = meta.get("annotations") or {}
    pod_spec = ((job.get("spec") or {}).get("template") or {}).get("spec") or {}
    main = (
        next((c for c in pod_spec.get("containers") or [] if c.get("name") == "job"), None)
        or ((pod_spec.get("containers") or [{}])[0])
    )
    limits = (main.get("resources") or {}).get("limits") or {}
    timeout = annotations.get(N.TIMEOUT_ANNOTATION)
    return Job(
        cluster=cluster,
        id=meta["name"],
        name=labels.get(N.JOB_NAME_LABEL, meta["name"]),
        image=main.get("image", ""),
        command=main.get("command") or None,
        args=main.get("args") or None,
        env={e["name"]: str(e.get("value", "")) for e in main.get("env") or [] if "value" in e},
        resources=ResourceLimits(
            cpus=cpu_cores(limits.get("cpu")) or None, mem=mebibytes(limits.get("memory")) or None
        ),
        timeout_s=float(timeout) if timeout else None,
        retries=int(
            annotations.get(N.RETRIES_ANNOTATION)
            or (job.get("spec") or {}).get("backoffLimit")
            or 0
        ),
        labels=N.user_labels(labels),
        status=job_status(job, pods),
        created_at=parse_time(meta.get("creationTimestamp")),
    )
