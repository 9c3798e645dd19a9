"""Scheduled jobs of a kind without a scheduler of its own: Asgard keeps them.

The schedules live in Asgard's database (``asgard.scheduling``) and each run is started
as a one-time job of the cluster. The keeper needs that database, which exists only in
a running server, so the server attaches it (``Cluster.schedule_with``); until then,
and in one-off commands, scheduled jobs answer 501. A kind that has more to check of a
schedule than the keeper does (an image the engine cannot find) subclasses this and
overrides ``check``.
"""

from __future__ import annotations

from asgard.backends.contract import ScheduledJobsBackend
from asgard.models import Account, ScheduledJob, ScheduledJobSpec

__all__ = ["KeptSchedules"]


class KeptSchedules(ScheduledJobsBackend):
    def __init__(self, cluster: str, kind: str) -> None:
        super().__init__(cluster, kind)
        self.keeper: ScheduledJobsBackend | None = None

    def attach(self, keeper: ScheduledJobsBackend) -> None:
        self.keeper = keeper

    def _kept(self) -> ScheduledJobsBackend:
        if self.keeper is None:
            self.unsupported("scheduled jobs outside a running Asgard server")
        return self.keeper

    async def check(self, account: Account, spec: ScheduledJobSpec) -> None:
        """Refuse, before the schedule is kept, what would make every run fail."""
        return None

    async def list_scheduled_jobs(self, account: Account) -> list[ScheduledJob]:
        return await self._kept().list_scheduled_jobs(account)

    async def get_scheduled_job(self, account: Account, job_id: str) -> ScheduledJob:
        return await self._kept().get_scheduled_job(account, job_id)

    async def create_scheduled_job(self, account: Account, spec: ScheduledJobSpec) -> ScheduledJob:
        await self.check(account, spec)
        return await self._kept().create_scheduled_job(account, spec)

    async def update_scheduled_job(
        self, account: Account, job_id: str, spec: ScheduledJobSpec
    ) -> ScheduledJob:
        await self.check(account, spec)
        return await self._kept().update_scheduled_job(account, job_id, spec)

    async def delete_scheduled_job(self, account: Account, job_id: str) -> None:
        await self._kept().delete_scheduled_job(account, job_id)
