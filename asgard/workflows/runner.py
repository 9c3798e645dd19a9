"""Moves workflows on, stage after stage, in one Asgard process at a time.

Every ``tick_s``, the holder of the ``workflows`` lease looks at every workflow
still going. For each, the first stage not yet ended decides:

* no job yet: its job is started on the workflow's volume (made when the
  workflow was created), where its ``/output`` is the folder ``stage-<i>`` and its ``/input`` the
  folder of the stage before it. After a failure, a stage is started only if it
  is ``always_run``; the others are ``cancelled`` with the reason.
* a job that has not finished: nothing, until it has.
* a finished job: the stage takes its state, and the next stage is looked at.

When no stage is left, the workflow is ``succeeded`` if every stage succeeded
and ``failed`` otherwise. Past the workflow's ``timeout_s``, the running stage is
stopped and nothing more runs. Everything is written to the database after
each move, so a restart goes on where it was. Stage jobs are recorded like any
job, so the reconciler follows them too.

A finished workflow is kept for ``retention_s`` after it ended (the jobs'
retention), then forgotten as a ``DELETE`` would: its stage jobs, their files
and records, and the volume the stages shared.

Removing is the runner's alone. A ``DELETE`` marks the workflow ``deleting`` (hidden from
every read from then on) and waits for the runner to remove it; the runner, which alone
starts stages and does one thing at a time, can never miss a stage it was starting as the
``DELETE`` landed (its save finds the workflow deleting, and it removes that job too). A
volume still held by a job being removed is tried again at the next tick, not waited for.

``GET /events`` hears of workflows through ``feed.py``, which reads them from the
database in every process.
"""

from __future__ import annotations

import contextlib
import time
from datetime import datetime, timedelta

import structlog

from asgard.backends.contract import JobsBackend, WorkspaceMount
from asgard.backends.orchestrator import Orchestrator
from asgard.db.engine import Database
from asgard.db.job_records import JobRecordStore
from asgard.db.stores import AccountStore
from asgard.errors import AsgardError, ClusterError, Conflict, NotFound, NotSupported
from asgard.job_ledger import launch
from asgard.leases import LeasedLoop, process_holder
from asgard.models import Account, JobSpec, Workflow, WorkflowStage
from asgard.models.base import utc_now
from asgard.models.job import FINISHED_JOB_STATES
from asgard.workflows.store import StoredWorkflow, WorkflowStore

log = structlog.get_logger(__name__)

LEASE = "workflows"
EXPIRE_EVERY_S = 30.0
WORKFLOW_LABEL = "workflow"
STAGE_LABEL = "workflow-stage"


class WorkflowRunner:
    def __init__(
        self,
        db: Database,
        orchestrator: Orchestrator,
        *,
        tick_s: float = 1.0,
        retention_s: float | None = None,
        holder: str | None = None,
    ) -> None:
        self.db = db
        self.orchestrator = orchestrator
        self.tick_s = tick_s
        self.retention = None if retention_s is None else timedelta(seconds=retention_s)
        self._expired_at = -EXPIRE_EVERY_S
        self.loop = LeasedLoop.ticking(
            db, LEASE, self.tick, tick_s=tick_s, holder=holder or process_holder(self)
        )
        db.notices.on("workflows", self.poke, others_only=True)  # one made elsewhere

    def poke(self) -> None:
        """Something changed (a workflow was created): look now, not at the next tick."""
        self.loop.poke()

    async def start(self) -> None:
        await self.loop.start()

    async def close(self) -> None:
        await self.loop.close()

    async def tick(self) -> None:
        expiring = self.retention is not None and time.monotonic() - self._expired_at >= min(
            EXPIRE_EVERY_S, self.retention.total_seconds()
        )
        async with self.db.session() as session:
            active = await WorkflowStore(session).active()
            if not active and not expiring:
                return  # every second: one query while nothing runs, not every account too
            accounts = {a.id: a for a in await AccountStore(session).every()}
        for stored in active:
            account = accounts.get(stored.account_id)
            if account is None:
                continue
            try:
                if stored.deleting:
                    await self.remove(account, stored)
                else:
                    await self.advance(account, stored)
            except AsgardError as exc:
                log.warning(
                    "a workflow could not move on", workflow=stored.workflow.id, error=exc.msg
                )
        if expiring:
            self._expired_at = time.monotonic()
            await self.expire(accounts)

    async def expire(self, accounts: dict[int, Account]) -> list[str]:
        """Forget the workflows that finished longer than the retention ago."""
        if self.retention is None:
            return []
        async with self.db.session() as session:
            old = await WorkflowStore(session).finished_before(utc_now() - self.retention)
        gone: list[str] = []
        for stored in old:
            account = accounts.get(stored.account_id)
            if account is None:
                continue
            async with self.db.writing() as session:
                if not await WorkflowStore(session).mark_deleting(stored.row_id):
                    continue  # deleted meanwhile: the DELETE's pass removes it
            try:
                removed = await self.remove(account, stored)
            except AsgardError as exc:  # the cluster is away: the next tick tries again
                log.warning(
                    "an expired workflow could not be removed yet",
                    workflow=stored.workflow.id,
                    error=exc.msg,
                )
                continue
            if removed:
                log.info("expired workflow removed", workflow=stored.workflow.id)
                gone.append(stored.workflow.id)
        return gone

    async def remove(self, account: Account, stored: StoredWorkflow) -> bool:
        """Remove a workflow being deleted: its stages' jobs, the volume they shared, then
        its row and job records. False while the volume is still in use (a removed job's
        container is not gone yet): the row stays, and the next tick tries again."""
        try:
            await remove_workflow_objects(self.orchestrator, account, stored.workflow)
        except Conflict as exc:
            log.info(
                "a deleted workflow's volume is still in use",
                workflow=stored.workflow.id,
                reason=exc.msg,
            )
            return False
        async with self.db.writing() as session:
            await WorkflowStore(session).remove(stored.row_id)
            records = JobRecordStore(session)
            for stage in stored.workflow.stages:
                if stage.job_id is not None:
                    await records.remove(account.id, stored.workflow.cluster, stage.job_id)
        self.db.notices.publish("workflows")
        return True

    async def advance(self, account: Account, stored: StoredWorkflow) -> None:
        flow = stored.workflow
        before = flow.model_dump(mode="json")
        now = utc_now()
        if self._timed_out(stored, now):
            await self._stop(account, stored, now)
            await self._save(account, stored, before)
            return
        failed = False
        for index, stage in enumerate(flow.stages):
            if stage.state in FINISHED_JOB_STATES:
                failed = failed or stage.state != "succeeded"
                continue
            if failed and not stage.always_run:
                flow.stages[index] = stage.model_copy(
                    update={
                        "state": "cancelled",
                        "finished_at": now,
                        "message": "not run: an earlier stage failed",
                    }
                )
                continue
            if stage.job_id is None:
                started = await self._start_stage(account, stored, index)
                if started:
                    flow.state = "running"
                await self._save(account, stored, before)
                return
            if not await self._follow_stage(account, stored, index):
                await self._save(account, stored, before)
                return  # still going
            failed = failed or flow.stages[index].state != "succeeded"
        flow.state = "failed" if failed else "succeeded"
        flow.finished_at = now
        flow.message = (
            "a stage failed: " + ", ".join(s.name for s in flow.stages if s.state != "succeeded")
            if failed
            else f"{len(flow.stages)} stage(s) succeeded"
        )
        await self._save(account, stored, before)
        log.info("workflow finished", workflow=flow.id, state=flow.state)

    def _timed_out(self, stored: StoredWorkflow, now: datetime) -> bool:
        limit = stored.spec.timeout_s
        created = stored.workflow.created_at
        return limit is not None and created is not None and (now - created).total_seconds() > limit

    async def _stop(self, account: Account, stored: StoredWorkflow, now: datetime) -> None:
        flow = stored.workflow
        reason = f"the workflow's timeout of {stored.spec.timeout_s:g} s passed"
        for index, stage in enumerate(flow.stages):
            if stage.state in FINISHED_JOB_STATES:
                continue
            if stage.job_id is not None:
                with contextlib.suppress(NotFound):
                    await self.orchestrator.call(
                        account, flow.cluster, JobsBackend.delete_job, stage.job_id
                    )
                async with self.db.writing() as session:
                    await JobRecordStore(session).remove(account.id, flow.cluster, stage.job_id)
            flow.stages[index] = stage.model_copy(
                update={"state": "cancelled", "finished_at": now, "message": reason}
            )
        flow.state, flow.finished_at, flow.message = "failed", now, reason

    async def _start_stage(self, account: Account, stored: StoredWorkflow, index: int) -> bool:
        flow = stored.workflow
        stage_spec = stored.spec.stages[index]
        mount = WorkspaceMount(
            workspace=flow.id,
            input_dir=stage_folder(index - 1) if index > 0 else None,
            output_dir=stage_folder(index),
        )
        job_spec = JobSpec.model_validate(
            {
                **stage_spec.model_dump(
                    include=set(JobSpec.model_fields) - {"labels", "cluster"}, exclude_none=True
                ),
                "cluster": flow.cluster,
                "labels": {
                    **stage_spec.labels,
                    WORKFLOW_LABEL: flow.id,
                    STAGE_LABEL: str(index),
                },
            }
        )
        now = utc_now()
        try:  # the volume was made by POST /workflows, before the workflow was stored
            job = await launch(self.db, self.orchestrator, account, job_spec, None, mount)
        except ClusterError:
            raise  # the cluster did not answer: try again at the next tick
        except AsgardError as exc:
            flow.stages[index] = flow.stages[index].model_copy(
                update={
                    "state": "failed",
                    "started_at": now,
                    "finished_at": now,
                    "message": f"could not start: {exc.msg}",
                }
            )
            return True
        # A job quick enough to have ended already is still "running" here: the next look
        # copies its end (state, time, reason) like any other's.
        state = "running" if job.status.finished else job.status.state
        flow.stages[index] = flow.stages[index].model_copy(
            update={"job_id": job.id, "state": state, "started_at": now}
        )
        log.info("workflow stage started", workflow=flow.id, stage=job_spec.name, job=job.id)
        return True

    async def _follow_stage(self, account: Account, stored: StoredWorkflow, index: int) -> bool:
        """True once the stage's job has finished (its state copied to the stage)."""
        flow = stored.workflow
        stage: WorkflowStage = flow.stages[index]
        assert stage.job_id is not None
        try:
            job = await self.orchestrator.call(
                account, flow.cluster, JobsBackend.get_job, stage.job_id
            )
        except NotFound:
            flow.stages[index] = stage.model_copy(
                update={
                    "state": "failed",
                    "finished_at": utc_now(),
                    "message": "its job vanished from the cluster",
                }
            )
            return True
        status = job.status
        if not status.finished:
            flow.stages[index] = stage.model_copy(update={"state": status.state})
            return False
        flow.stages[index] = stage.model_copy(
            update={
                "state": status.state,
                "finished_at": status.finished_at or utc_now(),
                "message": status.message,
            }
        )
        return True

    async def _save(
        self, account: Account, stored: StoredWorkflow, before: dict[str, object]
    ) -> None:
        """Write what this tick changed; ``before`` is the workflow as the tick found it."""
        if stored.workflow.model_dump(mode="json") == before:
            return
        async with self.db.writing() as session:
            store = WorkflowStore(session)
            kept = await store.save(stored)
            if not kept:  # deleted while this tick looked at it, maybe starting a stage
                await store.note_stages(stored)
        self.db.notices.publish("workflows")
        if not kept:
            await self.remove(account, stored)


def stage_folder(index: int) -> str:
    """The folder of the workflow's volume that is stage ``index``'s ``/output``."""
    return f"stage-{index}"


async def remove_workflow_objects(
    orchestrator: Orchestrator, account: Account, flow: Workflow
) -> None:
    """Stop and remove every stage's job, then the volume they shared; Conflict while a
    removed job's container still holds the volume."""
    for stage in flow.stages:
        if stage.job_id is not None:
            with contextlib.suppress(NotFound):
                await orchestrator.call(account, flow.cluster, JobsBackend.delete_job, stage.job_id)
    with contextlib.suppress(NotFound, NotSupported):
        await orchestrator.call(account, flow.cluster, JobsBackend.delete_workspace, flow.id)
