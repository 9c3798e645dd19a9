"""Workflows (stages of jobs on one volume) and scheduled jobs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from typing import Any

from asgard.client.pagination import each
from asgard.client.transport import Transport, path_of
from asgard.http.schemas import ScheduledJobBody, ScheduledJobList, WorkflowBody, WorkflowList
from asgard.models import ScheduledJob, ScheduledJobSpec, Workflow, WorkflowSpec
from asgard.models.job import FINISHED_JOB_STATES

__all__ = ["ScheduledJobsClient", "WorkflowsClient"]


class WorkflowsClient:
    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def _one(self, cluster: str, workflow_id: str, *rest: str) -> str:
        return path_of("clusters", cluster, "workflows", workflow_id, *rest)

    async def page(
        self,
        *,
        cluster: str | list[str] | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> WorkflowList:
        params = {"cluster": cluster, "limit": limit, "cursor": cursor}
        return await self._t.model(WorkflowList, "GET", "/workflows", params=params)

    def all(self, *, cluster: str | list[str] | None = None) -> AsyncIterator[Workflow]:
        async def fetch(cursor: str | None) -> WorkflowList:
            return await self.page(cluster=cluster, cursor=cursor)

        return each(fetch, lambda page: page.workflows)

    async def create(self, spec: WorkflowSpec | Mapping[str, Any]) -> Workflow:
        return (await self._t.model(WorkflowBody, "POST", "/workflows", body=spec)).workflow

    async def get(self, cluster: str, workflow_id: str) -> Workflow:
        path = self._one(cluster, workflow_id)
        return (await self._t.model(WorkflowBody, "GET", path)).workflow

    async def delete(self, cluster: str, workflow_id: str) -> None:
        await self._t.call("DELETE", self._one(cluster, workflow_id))

    def stage_logs(
        self, cluster: str, workflow_id: str, stage: str, *, follow: bool = False
    ) -> AsyncIterator[str]:
        path = self._one(cluster, workflow_id, "stages", stage, "logs")
        return self._t.text(path, {"follow": follow}, follow=follow)

    async def wait(self, cluster: str, workflow_id: str, *, poll_s: float = 1.0) -> Workflow:
        """The workflow once it has finished."""
        while True:
            found = await self.get(cluster, workflow_id)
            if found.state in FINISHED_JOB_STATES:
                return found
            await asyncio.sleep(poll_s)


class ScheduledJobsClient:
    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def _one(self, cluster: str, job_id: str) -> str:
        return path_of("clusters", cluster, "scheduled-jobs", job_id)

    async def page(
        self,
        *,
        cluster: str | list[str] | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        stale: bool = False,
    ) -> ScheduledJobList:
        params = {"cluster": cluster, "limit": limit, "cursor": cursor, "stale": stale or None}
        return await self._t.model(ScheduledJobList, "GET", "/scheduled-jobs", params=params)

    def all(self, *, cluster: str | list[str] | None = None) -> AsyncIterator[ScheduledJob]:
        async def fetch(cursor: str | None) -> ScheduledJobList:
            return await self.page(cluster=cluster, cursor=cursor)

        return each(fetch, lambda page: page.scheduled_jobs)

    async def create(self, spec: ScheduledJobSpec | Mapping[str, Any]) -> ScheduledJob:
        body = await self._t.model(ScheduledJobBody, "POST", "/scheduled-jobs", body=spec)
        return body.scheduled_job

    async def get(self, cluster: str, job_id: str) -> ScheduledJob:
        body = await self._t.model(ScheduledJobBody, "GET", self._one(cluster, job_id))
        return body.scheduled_job

    async def replace(
        self, cluster: str, job_id: str, spec: ScheduledJobSpec | Mapping[str, Any]
    ) -> ScheduledJob:
        path = self._one(cluster, job_id)
        return (await self._t.model(ScheduledJobBody, "PUT", path, body=spec)).scheduled_job

    async def delete(self, cluster: str, job_id: str) -> None:
        await self._t.call("DELETE", self._one(cluster, job_id))
