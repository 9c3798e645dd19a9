"""Schedules Asgard runs itself, in SQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from asgard.db.stores import flush_or_conflict
from asgard.db.tables import ScheduleRow
from asgard.models import ScheduledJob, ScheduledJobSpec
from asgard.models.base import utc_now


@dataclass(frozen=True)
class StoredSchedule:
    id: int
    account_id: int
    cluster: str
    spec: ScheduledJobSpec
    next_run_at: datetime | None
    last_run_at: datetime | None
    last_job_id: str | None

    @classmethod
    def of(cls, row: ScheduleRow) -> StoredSchedule:
        return cls(
            id=row.id,
            account_id=row.account_id,
            cluster=row.cluster,
            spec=ScheduledJobSpec.model_validate(row.spec),
            next_run_at=row.next_run_at,
            last_run_at=row.last_run_at,
            last_job_id=row.last_job_id,
        )

    def model(self) -> ScheduledJob:
        return ScheduledJob.model_validate(
            {
                **self.spec.model_dump(),
                "id": self.spec.name,
                "next_run_at": self.next_run_at,
                "last_run_at": self.last_run_at,
                "last_job_id": self.last_job_id,
            }
        )


class ScheduleStore:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _row(self, account_id: int, cluster: str, name: str) -> ScheduleRow | None:
        return await self.session.scalar(
            select(ScheduleRow).where(
                ScheduleRow.account_id == account_id,
                ScheduleRow.cluster == cluster,
                ScheduleRow.name == name,
            )
        )

    async def get(self, account_id: int, cluster: str, name: str) -> StoredSchedule | None:
        row = await self._row(account_id, cluster, name)
        return StoredSchedule.of(row) if row else None

    async def of_account(self, account_id: int, cluster: str) -> list[StoredSchedule]:
        rows = await self.session.scalars(
            select(ScheduleRow)
            .where(ScheduleRow.account_id == account_id, ScheduleRow.cluster == cluster)
            .order_by(ScheduleRow.name)
        )
        return [StoredSchedule.of(r) for r in rows]

    async def add(
        self, account_id: int, spec: ScheduledJobSpec, next_run_at: datetime | None
    ) -> StoredSchedule:
        row = ScheduleRow(
            account_id=account_id,
            cluster=spec.cluster,
            name=spec.name,
            spec=spec.model_dump(mode="json"),
            enabled=spec.enabled,
            next_run_at=next_run_at,
        )
        self.session.add(row)
        await flush_or_conflict(
            self.session, f"a scheduled job named {spec.name} already exists", "name"
        )
        return StoredSchedule.of(row)

    async def replace(
        self, account_id: int, name: str, spec: ScheduledJobSpec, next_run_at: datetime | None
    ) -> StoredSchedule | None:
        row = await self._row(account_id, spec.cluster, name)
        if row is None:
            return None
        row.spec = spec.model_dump(mode="json")
        row.enabled = spec.enabled
        row.next_run_at = next_run_at
        row.updated_at = utc_now()
        await self.session.flush()
        return StoredSchedule.of(row)

    async def remove(self, account_id: int, cluster: str, name: str) -> bool:
        row = await self._row(account_id, cluster, name)
        if row is None:
            return False
        await self.session.delete(row)
        await self.session.flush()
        return True

    async def due(self, now: datetime) -> list[StoredSchedule]:
        rows = await self.session.scalars(
            select(ScheduleRow)
            .where(ScheduleRow.enabled.is_(True), ScheduleRow.next_run_at <= now)
            .order_by(ScheduleRow.next_run_at)
        )
        return [StoredSchedule.of(r) for r in rows]

    async def ran(
        self,
        schedule_id: int,
        *,
        at: datetime,
        job_id: str | None,
        next_run_at: datetime | None,
    ) -> None:
        row = await self.session.get(ScheduleRow, schedule_id)
        if row is None:
            return  # deleted meanwhile
        if job_id is not None:
            row.last_run_at, row.last_job_id = at, job_id
        row.next_run_at = next_run_at
        await self.session.flush()
