"""Jobs as Asgard accounts for them: started with a record, and what a vanished one became.

Every job Asgard starts (a request, a scheduled run, a workflow stage) is started
here, by ``launch``, with one rule: never a job on a cluster without a record, never
a record of a job that was not created. The job is created first (a job that could
not be created leaves nothing to record), then recorded; a record that cannot be
written deletes the job again. If even that fails (the cluster went away in
between), the job is an orphan, which the reconciler removes after its grace time.

A job whose cluster answers and no longer has it has *vanished*: removed outside
Asgard, or lost by the cluster. Its record, if it was still going, becomes
``failed`` saying so (``mark_vanished``), wherever that is noticed: a read, a list,
or the reconciler.
"""

from __future__ import annotations

import structlog

from asgard.backends.contract import JobsBackend, WorkspaceMount
from asgard.backends.orchestrator import Orchestrator
from asgard.db.engine import Database
from asgard.db.job_records import JobRecord, JobRecordStore
from asgard.errors import AsgardError
from asgard.models import Account, Job, JobSpec, JobStatus
from asgard.models.base import utc_now

__all__ = ["VANISHED", "launch", "mark_vanished", "vanished_status"]

log = structlog.get_logger(__name__)

VANISHED = "the job vanished from cluster {cluster}: removed outside Asgard, or lost by it"


async def launch(
    db: Database,
    orchestrator: Orchestrator,
    account: Account,
    spec: JobSpec,
    input_zip: bytes | None = None,
    mount: WorkspaceMount | None = None,
) -> Job:
    """Start a job on ``spec.cluster`` and record it; the job with its history."""
    job = await orchestrator.call(
        account, spec.cluster, JobsBackend.create_job, spec, input_zip, mount
    )
    try:
        async with db.writing() as session:
            record = await JobRecordStore(session).add(account.id, job)
    except BaseException:
        # No record, no job: a job nobody remembers would run unaccounted for.
        try:
            await orchestrator.call(account, job.cluster, JobsBackend.delete_job, job.id)
        except AsgardError as exc:
            log.warning(
                "a job whose record failed could not be removed; the reconciler will",
                cluster=job.cluster,
                job=job.id,
                error=exc.msg,
            )
        raise
    return job.model_copy(update={"history": record.history})


def vanished_status(cluster: str) -> JobStatus:
    return JobStatus(
        state="failed",
        failed=1,
        finished_at=utc_now(),
        message=VANISHED.format(cluster=cluster),
        exit_code=None,
    )


async def mark_vanished(db: Database, record: JobRecord) -> JobRecord:
    """The cluster answered and has no such job: a record still going becomes failed. A
    finished record is kept as it is (its retention decides when it goes)."""
    if record.status.finished:
        return record
    status = vanished_status(record.cluster)
    async with db.writing() as session:
        updated = await JobRecordStore(session).observe(
            record.account_id, record.cluster, record.job_id, status, status.message
        )
    return updated or record
