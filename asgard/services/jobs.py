"""One-time jobs across clusters, and the files they take and leave."""

from __future__ import annotations

import contextlib
import io
import tarfile
import zipfile
from collections.abc import Collection

from asgard.archives import is_tar, tar_to_zip
from asgard.artifacts import ArtifactStore
from asgard.backends.contract import JobsBackend, LogStream
from asgard.backends.orchestrator import Orchestrator
from asgard.db.engine import Database
from asgard.db.job_records import JobRecordStore
from asgard.errors import Forbidden, InvalidValue, NotFound
from asgard.job_ledger import launch, mark_vanished
from asgard.job_tokens import JobGrant
from asgard.models import Account, Job, JobSpec, Role
from asgard.models.job import JobState
from asgard.scheduling.scheduler import SCHEDULE_LABEL
from asgard.services.pagination import ClusterPage, page_of
from asgard.services.principal import Principal


def check_zip(data: bytes, field: str) -> None:
    """A zip that can be opened and holds no path that escapes the folder it is unpacked in."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            bad = archive.testzip()
            names = archive.namelist()
    except (zipfile.BadZipFile, ValueError):
        raise InvalidValue("is not a zip file", field=field) from None
    if bad is not None:
        raise InvalidValue(f"is a damaged zip ({bad} fails its check)", field=field)
    for name in names:
        if name.startswith("/") or ".." in name.split("/"):
            raise InvalidValue(f"holds a path that leaves its folder: {name}", field=field)


class JobsService:
    """Jobs as the clusters run them, joined with Asgard's records of them.

    The cluster is the truth about what runs; the record is what survives: a job that
    vanished from its cluster is still answered for (``failed``, saying why), and every
    job carries the history of its states."""

    def __init__(self, orchestrator: Orchestrator, db: Database) -> None:
        self.orchestrator = orchestrator
        self.db = db

    async def _observed(self, account: Account, job: Job) -> Job:
        async with self.db.writing() as session:
            record = await JobRecordStore(session).observe(
                account.id, job.cluster, job.id, job.status, None
            )
        return job.model_copy(update={"history": record.history}) if record else job

    async def list_jobs(
        self,
        principal: Principal,
        *,
        clusters: Collection[str] | None,
        state: JobState | None,
        limit: int,
        cursor: str | None,
        stale: bool = False,
    ) -> ClusterPage[Job]:
        account = principal.require(Role.VIEWER)
        fan_out = self.orchestrator.fan_out_stale if stale else self.orchestrator.fan_out
        listing = await fan_out(account, clusters, JobsBackend.list_jobs)
        async with self.db.session() as session:
            records = await JobRecordStore(session).of_account(account.id)
        recorded = {(r.cluster, r.job_id): r for r in records}
        answered = {c for c in self.orchestrator.cluster_names() if account.may_use(c)} - {
            e.cluster for e in listing.errors
        }
        jobs: list[Job] = []
        for job in listing.items:
            record = recorded.pop((job.cluster, job.id), None)
            jobs.append(job.model_copy(update={"history": record.history}) if record else job)
        for record in recorded.values():
            if record.cluster in answered and (clusters is None or record.cluster in clusters):
                jobs.append((await mark_vanished(self.db, record)).as_job())
        found = [j for j in jobs if state is None or j.status.state == state]
        return page_of(listing, limit, cursor, found)

    async def create(self, principal: Principal, spec: JobSpec, input_zip: bytes | None) -> Job:
        account = principal.require(Role.OPERATOR)
        if input_zip is not None:
            check_zip(input_zip, "input")
        return await launch(self.db, self.orchestrator, account, spec, input_zip)

    async def get(self, principal: Principal, cluster: str, job_id: str) -> Job:
        account = principal.require(Role.VIEWER)
        try:
            job = await self.orchestrator.call(account, cluster, JobsBackend.get_job, job_id)
        except NotFound:
            async with self.db.session() as session:
                record = await JobRecordStore(session).get(account.id, cluster, job_id)
            if record is None:
                raise
            return (await mark_vanished(self.db, record)).as_job()
        return await self._observed(account, job)

    async def delete(self, principal: Principal, cluster: str, job_id: str) -> None:
        account = principal.require(Role.OPERATOR)
        try:
            await self.orchestrator.call(account, cluster, JobsBackend.delete_job, job_id)
        except NotFound:
            async with self.db.writing() as session:
                if not await JobRecordStore(session).remove(account.id, cluster, job_id):
                    raise
            return
        async with self.db.writing() as session:
            await JobRecordStore(session).remove(account.id, cluster, job_id)

    async def delete_runs_of(self, principal: Principal, cluster: str, schedule: str) -> None:
        """Remove every job that Asgard's own scheduler started for ``schedule``, as a
        CronJob's Jobs go with it on Kubernetes. Found through their records."""
        account = principal.require(Role.OPERATOR)
        async with self.db.session() as session:
            records = await JobRecordStore(session).of_account(account.id)
        for record in records:
            labels = record.spec.get("labels") or {}
            if record.cluster == cluster and labels.get(SCHEDULE_LABEL) == schedule:
                with contextlib.suppress(NotFound):
                    await self.delete(principal, cluster, record.job_id)

    async def logs(
        self, principal: Principal, cluster: str, job_id: str, *, follow: bool
    ) -> LogStream:
        account = principal.require(Role.VIEWER)
        return await self.orchestrator.call(
            account, cluster, JobsBackend.job_logs, job_id, follow=follow
        )

    async def output(self, principal: Principal, cluster: str, job_id: str) -> bytes:
        account = principal.require(Role.VIEWER)
        return await self.orchestrator.call(account, cluster, JobsBackend.job_output, job_id)


class JobFilesService:
    """What a running job may do with its own token: read its input, leave its output."""

    def __init__(self, artifacts: ArtifactStore) -> None:
        self.artifacts = artifacts

    @staticmethod
    def _check(grant: JobGrant, cluster: str, job_id: str) -> None:
        if (grant.cluster, grant.job_id) != (cluster, job_id):
            raise Forbidden("this job token is for another job")

    async def read_input(self, grant: JobGrant, cluster: str, job_id: str) -> bytes:
        self._check(grant, cluster, job_id)
        data = await self.artifacts.read_input(grant.cluster, grant.namespace, grant.job_id)
        if data is None:
            raise NotFound(f"job '{job_id}' has no input", cluster=cluster)
        return data

    async def save_output(self, grant: JobGrant, cluster: str, job_id: str, data: bytes) -> None:
        """A zip, or a tar (what a collector with only busybox can make), kept as a zip."""
        self._check(grant, cluster, job_id)
        if is_tar(data):
            try:
                data = tar_to_zip(data)
            except (tarfile.TarError, ValueError):
                raise InvalidValue("is a damaged tar", field="body") from None
        check_zip(data, "body")
        await self.artifacts.save_output(grant.cluster, grant.namespace, grant.job_id, data)
