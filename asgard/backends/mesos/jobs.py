"""One-time jobs on Mesos: Chronos jobs that run once (``R1//PT24H``: now, a single time).

Their status comes from Chronos' counts (``successCount``, ``errorCount``) and its
summary (``state``: queued, running, idle). Chronos reports no exit code and
keeps no files, so these jobs take no input zip and leave no output here.
"""

from __future__ import annotations

import asyncio
import contextlib

from asgard.backends.contract import JobsBackend, LogStream, WorkspaceMount
from asgard.backends.mesos.chronos import Chronos
from asgard.backends.mesos.client import MesosClient
from asgard.backends.mesos.config import KIND
from asgard.backends.mesos.job_converters import (
    ONE_TIME_MARK,
    chronos_to_job,
    one_time_name,
    one_time_to_chronos,
)
from asgard.errors import AsgardError, NotFound
from asgard.models import Account, Job, JobSpec
from asgard.models.job import new_job_id


class MesosJobsBackend(JobsBackend):
    def __init__(self, client: MesosClient) -> None:
        super().__init__(client.cluster, KIND)
        self.chronos: Chronos = client.chronos

    async def create_job(
        self,
        account: Account,
        spec: JobSpec,
        input_zip: bytes | None,
        mount: WorkspaceMount | None = None,
    ) -> Job:
        if input_zip is not None or mount is not None:
            # Chronos runs a command in a sandbox it prepares itself: nothing can be put there.
            self.unsupported("job input" if mount is None else "workflow volumes")
        job_id = new_job_id(spec.name)
        await self.chronos.save(one_time_to_chronos(account, spec, job_id))
        return await self.get_job(account, job_id)

    async def get_job(self, account: Account, job_id: str) -> Job:
        name = one_time_name(account, job_id)
        try:
            job, summary = await asyncio.gather(self.chronos.job(name), self.chronos.summary())
        except NotFound:
            raise NotFound(f"job '{job_id}' not found", cluster=self.cluster) from None
        return chronos_to_job(job, summary.get(name), account=account, cluster=self.cluster)

    async def list_jobs(self, account: Account) -> list[Job]:
        jobs, summary = await asyncio.gather(
            self.chronos.search(f"{account.namespace}{ONE_TIME_MARK}"), self.chronos.summary()
        )
        return [
            chronos_to_job(j, summary.get(str(j["name"])), account=account, cluster=self.cluster)
            for j in jobs
        ]

    async def delete_job(self, account: Account, job_id: str) -> None:
        name = one_time_name(account, job_id)
        await self.get_job(account, job_id)
        with contextlib.suppress(AsgardError):
            await self.chronos.kill(name)  # a run in progress stops too
        await self.chronos.delete(name)

    async def job_logs(self, account: Account, job_id: str, *, follow: bool) -> LogStream:
        await self.get_job(account, job_id)  # another account's job is not found, not unsupported
        self.unsupported("job logs")

    async def job_output(self, account: Account, job_id: str) -> bytes:
        await self.get_job(account, job_id)
        self.unsupported("job output")
