"""One-time jobs of a local cluster: processes of the host, watched by this Asgard
(``asgard_local.runner``), which stops them at their timeout and keeps their output.

Nothing is collected after a job: its ``output/`` stays in the state folder until the
job is deleted, so ``settle_job`` has nothing to do.
"""

from __future__ import annotations

from asgard.backends.contract import JobsBackend, LogStream, WorkspaceMount
from asgard.backends.rollout import unmet
from asgard.errors import InvalidValue
from asgard.models import Account, Job, JobSpec, WorkflowVolume
from asgard_local.config import KIND
from asgard_local.deploy import HOST
from asgard_local.host import LocalHost


class LocalJobsBackend(JobsBackend):
    def __init__(self, host: LocalHost, *, max_output_bytes: int | None = None) -> None:
        super().__init__(host.cluster, KIND)
        self.host = host
        self.runner = host.jobs
        self.max_output_bytes = max_output_bytes
        """An output folder holding more is not zipped (404 with the reason)."""

    async def start(self) -> None:
        await self.host.start()

    async def close(self) -> None:
        await self.host.close()

    async def create_job(
        self,
        account: Account,
        spec: JobSpec,
        input_zip: bytes | None,
        mount: WorkspaceMount | None = None,
    ) -> Job:
        self.host.ensure()
        reason = unmet(self.host.client.attributes(), account, [], agent=HOST)
        if reason:  # the host is the only agent there is: the account's owner's, or none
            raise InvalidValue(reason, field="cluster", cluster=self.host.cluster)
        return await self.runner.create(account, spec, input_zip, mount)

    async def create_workspace(self, account: Account, name: str, volume: WorkflowVolume) -> None:
        self.host.ensure()
        if not self.host.isolation.available:
            self.unsupported("workflow volumes")
        self.runner.workspaces.create(account.namespace, name)

    async def delete_workspace(self, account: Account, name: str) -> None:
        self.host.ensure()
        if not self.host.isolation.available:
            self.unsupported("workflow volumes")
        self.runner.workspaces.delete(account.namespace, name)

    async def get_job(self, account: Account, job_id: str) -> Job:
        self.host.ensure()
        return self.runner.get(account.namespace, job_id)

    async def list_jobs(self, account: Account) -> list[Job]:
        self.host.ensure()
        return self.runner.of(account.namespace)

    async def delete_job(self, account: Account, job_id: str) -> None:
        self.host.ensure()
        await self.runner.delete(account.namespace, job_id)

    async def job_logs(self, account: Account, job_id: str, *, follow: bool) -> LogStream:
        self.host.ensure()
        return await self.runner.logs(account.namespace, job_id, follow=follow)

    async def job_output(self, account: Account, job_id: str) -> bytes:
        self.host.ensure()
        return await self.runner.output(account.namespace, job_id, self.max_output_bytes)
