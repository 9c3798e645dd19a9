"""The scheduled jobs of a cluster with no scheduler of its own: kept by Asgard."""

from __future__ import annotations

from asgard.backends.contract import ScheduledJobsBackend
from asgard.db.engine import Database
from asgard.errors import NotFound
from asgard.models import Account, ScheduledJob, ScheduledJobSpec
from asgard.models.base import utc_now
from asgard.scheduling import cron
from asgard.scheduling.store import ScheduleStore


class AsgardScheduledJobsBackend(ScheduledJobsBackend):
    def __init__(self, cluster: str, kind: str, db: Database) -> None:
        super().__init__(cluster, kind)
        self.db = db

    def _missing(self, job_id: str) -> NotFound:
        return NotFound(f"scheduled job '{job_id}' not found", cluster=self.cluster)

    async def list_scheduled_jobs(self, account: Account) -> list[ScheduledJob]:
        async with self.db.session() as session:
            found = await ScheduleStore(session).of_account(account.id, self.cluster)
        return [s.model() for s in found]

    async def get_scheduled_job(self, account: Account, job_id: str) -> ScheduledJob:
        async with self.db.session() as session:
            found = await ScheduleStore(session).get(account.id, self.cluster, job_id)
        if found is None:
            raise self._missing(job_id)
        return found.model()

    async def create_scheduled_job(self, account: Account, spec: ScheduledJobSpec) -> ScheduledJob:
        cron.check(spec.schedule)
        first = cron.next_run(spec.schedule, utc_now()) if spec.enabled else None
        async with self.db.writing() as session:
            stored = await ScheduleStore(session).add(account.id, spec, first)
        return stored.model()

    async def update_scheduled_job(
        self, account: Account, job_id: str, spec: ScheduledJobSpec
    ) -> ScheduledJob:
        cron.check(spec.schedule)
        upcoming = cron.next_run(spec.schedule, utc_now()) if spec.enabled else None
        async with self.db.writing() as session:
            stored = await ScheduleStore(session).replace(account.id, job_id, spec, upcoming)
        if stored is None:
            raise self._missing(job_id)
        return stored.model()

    async def delete_scheduled_job(self, account: Account, job_id: str) -> None:
        async with self.db.writing() as session:
            if not await ScheduleStore(session).remove(account.id, self.cluster, job_id):
                raise self._missing(job_id)
