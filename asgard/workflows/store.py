"""Workflows in SQL: the spec, and each stage's progress."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from asgard.db.tables import WorkflowRow
from asgard.models import Workflow, WorkflowSpec, WorkflowStage
from asgard.models.base import utc_now
from asgard.models.job import FINISHED_JOB_STATES

ACTIVE_STATES = ("pending", "running")
DELETING = "deleting"
"""A workflow whose DELETE has been accepted: hidden from every read, and left to the runner
to remove with everything it made. Only the runner starts stages, so only the runner
removes them: a stage it is starting while the DELETE lands is never missed."""


@dataclass
class StoredWorkflow:
    row_id: int
    account_id: int
    spec: WorkflowSpec
    workflow: Workflow
    deleting: bool = False

    @classmethod
    def of(cls, row: WorkflowRow) -> StoredWorkflow:
        deleting = row.state == DELETING
        return cls(
            row_id=row.id,
            account_id=row.account_id,
            spec=WorkflowSpec.model_validate(row.spec),
            deleting=deleting,
            workflow=Workflow(
                id=row.workflow_id,
                cluster=row.cluster,
                name=str(row.spec["name"]),
                state="cancelled" if deleting else row.state,
                stages=[WorkflowStage.model_validate(s) for s in row.stages],
                created_at=row.created_at,
                finished_at=row.finished_at,
                message=row.message,
            ),
        )

    @property
    def finished(self) -> bool:
        return self.workflow.state in FINISHED_JOB_STATES


class WorkflowStore:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _row(self, account_id: int, cluster: str, workflow_id: str) -> WorkflowRow | None:
        return await self.session.scalar(
            select(WorkflowRow).where(
                WorkflowRow.account_id == account_id,
                WorkflowRow.cluster == cluster,
                WorkflowRow.workflow_id == workflow_id,
                WorkflowRow.state != DELETING,
            )
        )

    async def add(self, account_id: int, workflow_id: str, spec: WorkflowSpec) -> StoredWorkflow:
        stages = [
            WorkflowStage(name=s.name, state="pending", always_run=s.always_run).model_dump(
                mode="json"
            )
            for s in spec.stages
        ]
        row = WorkflowRow(
            account_id=account_id,
            cluster=spec.cluster,
            workflow_id=workflow_id,
            spec=spec.model_dump(mode="json"),
            state="pending",
            stages=stages,
        )
        self.session.add(row)
        await self.session.flush()
        return StoredWorkflow.of(row)

    async def get(self, account_id: int, cluster: str, workflow_id: str) -> StoredWorkflow | None:
        row = await self._row(account_id, cluster, workflow_id)
        return StoredWorkflow.of(row) if row else None

    async def of_account(self, account_id: int) -> list[StoredWorkflow]:
        rows = await self.session.scalars(
            select(WorkflowRow)
            .where(WorkflowRow.account_id == account_id, WorkflowRow.state != DELETING)
            .order_by(WorkflowRow.cluster, WorkflowRow.workflow_id)
        )
        return [StoredWorkflow.of(r) for r in rows]

    async def active(self) -> list[StoredWorkflow]:
        """Every workflow the runner has work for: going, or being deleted."""
        rows = await self.session.scalars(
            select(WorkflowRow)
            .where(WorkflowRow.state.in_((*ACTIVE_STATES, DELETING)))
            .order_by(WorkflowRow.id)
        )
        return [StoredWorkflow.of(r) for r in rows]

    async def finished_before(self, cutoff: datetime) -> list[StoredWorkflow]:
        rows = await self.session.scalars(
            select(WorkflowRow)
            .where(
                WorkflowRow.finished_at.is_not(None),
                WorkflowRow.finished_at < cutoff,
                WorkflowRow.state != DELETING,
            )
            .order_by(WorkflowRow.id)
        )
        return [StoredWorkflow.of(r) for r in rows]

    async def save(self, stored: StoredWorkflow) -> bool:
        """Write the workflow's progress; False when it was deleted or stopped meanwhile.
        One conditional UPDATE, so a DELETE that lands between the runner's read and its
        write is never overwritten."""
        flow = stored.workflow
        result = await self.session.execute(
            update(WorkflowRow)
            .where(WorkflowRow.id == stored.row_id, WorkflowRow.state.in_(ACTIVE_STATES))
            .values(
                state=flow.state,
                stages=[s.model_dump(mode="json") for s in flow.stages],
                message=flow.message,
                finished_at=flow.finished_at,
            )
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0) == 1)

    async def mark_deleting(self, row_id: int) -> bool:
        """Hand the workflow to the runner to remove; False when it is already gone or
        being deleted (a second DELETE is a 404, as for any workflow no longer there)."""
        result = await self.session.execute(
            update(WorkflowRow)
            .where(WorkflowRow.id == row_id, WorkflowRow.state != DELETING)
            .values(state=DELETING, message="being deleted", finished_at=utc_now())
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0) == 1)

    async def note_stages(self, stored: StoredWorkflow) -> None:
        """Keep the stages' job ids on a workflow being deleted: the runner started a job
        for it as the DELETE landed, and a later pass must know that job to remove it."""
        await self.session.execute(
            update(WorkflowRow)
            .where(WorkflowRow.id == stored.row_id, WorkflowRow.state == DELETING)
            .values(stages=[s.model_dump(mode="json") for s in stored.workflow.stages])
            .execution_options(synchronize_session=False)
        )

    async def by_row(self, row_id: int) -> StoredWorkflow | None:
        """The workflow as stored now, whatever its state (the runner's second look)."""
        row = await self.session.get(WorkflowRow, row_id, populate_existing=True)
        return StoredWorkflow.of(row) if row else None

    async def remove(self, row_id: int) -> None:
        row = await self.session.get(WorkflowRow, row_id)
        if row is not None:
            await self.session.delete(row)
            await self.session.flush()
