"""Scheduled jobs as Chronos jobs named ``<namespace>_<name>``: listed by that exact
prefix, one-time jobs (``<namespace>_once_<id>``) left out. Jobs named as before
(``<namespace>-<name>``) are renamed by ``asgard migrate-names`` (``renames.py``).

Every field comes back as it went: Chronos keeps ``concurrent`` (which the
original Asgard dropped on reading), and what Chronos has no field for (labels,
where the command ends and its arguments begin) travels in an environment
variable of Asgard's own, hidden on the way back.
"""

from __future__ import annotations

from asgard.backends.common import schedule_taken
from asgard.backends.contract import ScheduledJobsBackend
from asgard.backends.mesos.chronos import Chronos
from asgard.backends.mesos.client import MesosClient
from asgard.backends.mesos.config import KIND
from asgard.backends.mesos.job_converters import (
    SEPARATOR,
    chronos_name,
    chronos_to_scheduled,
    scheduled_name,
    scheduled_to_chronos,
)
from asgard.errors import NotFound
from asgard.models import Account, ScheduledJob, ScheduledJobSpec


class MesosScheduledJobsBackend(ScheduledJobsBackend):
    def __init__(self, client: MesosClient) -> None:
        super().__init__(client.cluster, KIND)
        self.chronos: Chronos = client.chronos

    async def list_scheduled_jobs(self, account: Account) -> list[ScheduledJob]:
        found = await self.chronos.search(f"{account.namespace}{SEPARATOR}")
        return sorted(
            (
                chronos_to_scheduled(j, account=account, cluster=self.cluster)
                for j in found
                if scheduled_name(account, str(j.get("name", ""))) is not None
            ),
            key=lambda j: j.id,
        )

    async def get_scheduled_job(self, account: Account, job_id: str) -> ScheduledJob:
        try:
            found = await self.chronos.job(chronos_name(account, job_id))
        except NotFound:
            raise NotFound(f"scheduled job '{job_id}' not found", cluster=self.cluster) from None
        return chronos_to_scheduled(found, account=account, cluster=self.cluster)

    async def create_scheduled_job(self, account: Account, spec: ScheduledJobSpec) -> ScheduledJob:
        body = scheduled_to_chronos(account, spec)
        try:
            await self.get_scheduled_job(account, spec.name)
        except NotFound:
            await self.chronos.save(body)
            return await self.get_scheduled_job(account, spec.name)
        raise schedule_taken(spec.name, self.cluster)

    async def update_scheduled_job(
        self, account: Account, job_id: str, spec: ScheduledJobSpec
    ) -> ScheduledJob:
        await self.get_scheduled_job(account, job_id)
        await self.chronos.save(
            scheduled_to_chronos(account, spec.model_copy(update={"name": job_id}))
        )
        return await self.get_scheduled_job(account, job_id)

    async def delete_scheduled_job(self, account: Account, job_id: str) -> None:
        await self.get_scheduled_job(account, job_id)
        await self.chronos.delete(chronos_name(account, job_id))
