"""Scheduled jobs across clusters."""

from __future__ import annotations

from asgard.backends.contract import ScheduledJobsBackend
from asgard.backends.orchestrator import Orchestrator
from asgard.errors import InvalidValue
from asgard.models import Role, ScheduledJob, ScheduledJobSpec
from asgard.services.jobs import JobsService
from asgard.services.listing import ListRequest, listed, paged
from asgard.services.pagination import ClusterPage
from asgard.services.principal import Principal


class ScheduledJobsService:
    def __init__(self, orchestrator: Orchestrator, jobs: JobsService) -> None:
        self.orchestrator = orchestrator
        self.jobs = jobs

    async def list_scheduled_jobs(
        self, principal: Principal, asked: ListRequest
    ) -> ClusterPage[ScheduledJob]:
        account = principal.require(Role.VIEWER)
        op = ScheduledJobsBackend.list_scheduled_jobs
        return paged(await listed(self.orchestrator, account, asked, op), asked)

    async def get(self, principal: Principal, cluster: str, job_id: str) -> ScheduledJob:
        account = principal.require(Role.VIEWER)
        return await self.orchestrator.call(
            account, cluster, ScheduledJobsBackend.get_scheduled_job, job_id
        )

    async def create(self, principal: Principal, spec: ScheduledJobSpec) -> ScheduledJob:
        account = principal.require(Role.OPERATOR)
        return await self.orchestrator.call(
            account, spec.cluster, ScheduledJobsBackend.create_scheduled_job, spec
        )

    async def update(
        self, principal: Principal, cluster: str, job_id: str, spec: ScheduledJobSpec
    ) -> ScheduledJob:
        account = principal.require(Role.OPERATOR)
        if spec.name != job_id:
            raise InvalidValue(
                f"must stay {job_id!r}: a scheduled job is not renamed", field="name"
            )
        if spec.cluster != cluster:
            raise InvalidValue(
                f"must stay {cluster!r}: a scheduled job does not move between clusters",
                field="cluster",
            )
        return await self.orchestrator.call(
            account, cluster, ScheduledJobsBackend.update_scheduled_job, job_id, spec
        )

    async def delete(self, principal: Principal, cluster: str, job_id: str) -> None:
        """The schedule, then the runs Asgard started for it (where Asgard schedules: a
        CronJob takes its own Jobs with it). A run that cannot be removed because the
        cluster is away stays an ordinary job, for ``DELETE`` or the retention time."""
        account = principal.require(Role.OPERATOR)
        await self.orchestrator.call(
            account, cluster, ScheduledJobsBackend.delete_scheduled_job, job_id
        )
        await self.jobs.delete_runs_of(principal, cluster, job_id)
