"""Job records and leases in SQL.

A record is written when Asgard creates a job and follows it through its states;
it is what survives a restart, a cluster that forgets, or a job removed behind
Asgard's back. Leases let one Asgard process among several do a thing at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from asgard.db.tables import JobRecordRow, LeaseRow
from asgard.models import Job, JobStatus, JobTransition
from asgard.models.base import utc_now


@dataclass(frozen=True)
class JobRecord:
    account_id: int
    cluster: str
    job_id: str
    spec: dict[str, Any]
    status: JobStatus
    history: list[JobTransition]
    created_at: datetime
    finished_at: datetime | None

    @classmethod
    def of(cls, row: JobRecordRow) -> JobRecord:
        return cls(
            account_id=row.account_id,
            cluster=row.cluster,
            job_id=row.job_id,
            spec=dict(row.spec),
            status=JobStatus.model_validate(row.status),
            history=[JobTransition.model_validate(t) for t in row.history],
            created_at=row.created_at,
            finished_at=row.finished_at,
        )

    def as_job(self) -> Job:
        """The job as last seen, for when the cluster no longer has it."""
        return Job.model_validate(
            {
                **self.spec,
                "cluster": self.cluster,
                "id": self.job_id,
                "status": self.status.model_dump(),
                "created_at": self.created_at,
                "history": [t.model_dump() for t in self.history],
            }
        )


class JobRecordStore:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _row(self, account_id: int, cluster: str, job_id: str) -> JobRecordRow | None:
        return await self.session.scalar(
            select(JobRecordRow).where(
                JobRecordRow.account_id == account_id,
                JobRecordRow.cluster == cluster,
                JobRecordRow.job_id == job_id,
            )
        )

    async def add(self, account_id: int, job: Job) -> JobRecord:
        now = utc_now()
        spec = job.model_dump(
            mode="json", exclude={"id", "status", "created_at", "history", "cluster"}
        )
        row = JobRecordRow(
            account_id=account_id,
            cluster=job.cluster,
            job_id=job.id,
            name=job.name,
            spec=spec,
            state=job.status.state,
            status=job.status.model_dump(mode="json"),
            history=[
                JobTransition(state=job.status.state, at=now, reason="created").model_dump(
                    mode="json"
                )
            ],
            created_at=job.created_at or now,
            updated_at=now,
            finished_at=job.status.finished_at if job.status.finished else None,
        )
        self.session.add(row)
        await self.session.flush()
        return JobRecord.of(row)

    async def get(self, account_id: int, cluster: str, job_id: str) -> JobRecord | None:
        row = await self._row(account_id, cluster, job_id)
        return JobRecord.of(row) if row is not None else None

    async def of_account(self, account_id: int) -> list[JobRecord]:
        rows = await self.session.scalars(
            select(JobRecordRow)
            .where(JobRecordRow.account_id == account_id)
            .order_by(JobRecordRow.cluster, JobRecordRow.job_id)
        )
        return [JobRecord.of(r) for r in rows]

    async def account_ids(self) -> Sequence[int]:
        found = await self.session.scalars(select(JobRecordRow.account_id).distinct())
        return list(found)

    async def observe(
        self, account_id: int, cluster: str, job_id: str, status: JobStatus, reason: str | None
    ) -> JobRecord | None:
        """The cluster says the job is in ``status``: a new transition when the state moved
        (a finished record never moves again). None when there is no record."""
        row = await self._row(account_id, cluster, job_id)
        if row is None:
            return None
        current = JobStatus.model_validate(row.status)
        if current.finished or current.model_dump() == status.model_dump():
            return JobRecord.of(row)
        now = utc_now()
        row.status = status.model_dump(mode="json")
        row.updated_at = now
        if status.state != row.state:
            row.state = status.state
            row.history = [
                *row.history,
                JobTransition(
                    state=status.state, at=now, reason=reason or status.message
                ).model_dump(mode="json"),
            ]
            if status.finished:
                row.finished_at = status.finished_at or now
        await self.session.flush()
        return JobRecord.of(row)

    async def remove(self, account_id: int, cluster: str, job_id: str) -> bool:
        done = await self.session.execute(
            delete(JobRecordRow).where(
                JobRecordRow.account_id == account_id,
                JobRecordRow.cluster == cluster,
                JobRecordRow.job_id == job_id,
            )
        )
        return bool(getattr(done, "rowcount", 0))


class LeaseStore:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def acquire(self, name: str, holder: str, ttl: timedelta) -> bool:
        """Take or extend the lease; False while another holder's has not expired. One
        conditional UPDATE (or the INSERT of a new row) decides, so two processes racing
        for it cannot both win, on SQLite or PostgreSQL."""
        now = utc_now()
        taken = await self.session.execute(
            update(LeaseRow)
            .where(
                LeaseRow.name == name,
                (LeaseRow.holder == holder) | (LeaseRow.expires_at < now),
            )
            .values(holder=holder, expires_at=now + ttl)
        )
        if getattr(taken, "rowcount", 0) == 1:
            return True
        if await self.session.get(LeaseRow, name) is not None:
            return False
        try:
            async with self.session.begin_nested():
                self.session.add(LeaseRow(name=name, holder=holder, expires_at=now + ttl))
        except IntegrityError:
            return False
        return True

    async def release(self, name: str, holder: str) -> None:
        await self.session.execute(
            delete(LeaseRow).where(LeaseRow.name == name, LeaseRow.holder == holder)
        )
