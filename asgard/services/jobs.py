"""One-time jobs across clusters, and the files they take and leave."""

from __future__ import annotations

import asyncio
import contextlib
import tarfile
from collections.abc import AsyncIterator, Collection, Mapping
from pathlib import Path

from asgard.archives import folder_zip_file, is_tar_file
from asgard.artifacts import OUTPUT, ArtifactStore
from asgard.backends.contract import JobsBackend, LogStream
from asgard.backends.orchestrator import Orchestrator
from asgard.db.engine import Database
from asgard.db.job_records import JobRecordStore
from asgard.errors import Forbidden, InvalidValue, NotFound, PayloadTooLarge
from asgard.job_ledger import launch, mark_vanished
from asgard.job_tokens import JobGrant
from asgard.models import Account, Job, JobSpec, Role
from asgard.models.job import JobState
from asgard.scheduling.scheduler import SCHEDULE_LABEL
from asgard.services.capable import require
from asgard.services.listing import ListRequest, listed, paged
from asgard.services.pagination import ClusterPage
from asgard.services.principal import Principal
from asgard.spooling import spool
from asgard.zip_checks import ArchiveLimits, check_zip_file


def checked_input(path: Path, limits: ArchiveLimits) -> bytes:
    """The job's input zip once it passed its checks (in memory: what launching takes,
    bounded by the upload limit; the unpacked files never are). Blocking: in a thread."""
    check_zip_file(path, limits, "input")
    return path.read_bytes()


def checked_output(path: Path, limits: ArchiveLimits) -> Path:
    """The output a job sent (a zip, or a tar that a collector with only busybox can
    make), as a zip that passed its checks: the path of that zip, a new file beside
    ``path`` when it was a tar. Blocking: in a thread."""
    if is_tar_file(path):
        zipped = path.with_name(path.name + ".zip")
        try:
            folder_zip_file(path, ".", zipped)
        except (tarfile.TarError, ValueError, EOFError):
            zipped.unlink(missing_ok=True)
            raise InvalidValue("is a damaged tar", field="body") from None
        path = zipped
    check_zip_file(path, limits, "body")
    return path


class JobsService:
    """Jobs as the clusters run them, joined with Asgard's records of them.

    The cluster is the truth about what runs; the record is what survives: a job that
    vanished from its cluster is still answered for (``failed``, saying why), and every
    job carries the history of its states."""

    def __init__(
        self,
        orchestrator: Orchestrator,
        db: Database,
        artifacts: ArtifactStore,
        limits: ArchiveLimits,
    ) -> None:
        self.orchestrator = orchestrator
        self.db = db
        self.artifacts = artifacts
        self.limits = limits

    async def _observed(self, account: Account, job: Job) -> Job:
        async with self.db.writing() as session:
            record = await JobRecordStore(session).observe(
                account.id, job.cluster, job.id, job.status, None
            )
        return job.model_copy(update={"history": record.history}) if record else job

    async def list_jobs(
        self, principal: Principal, asked: ListRequest, state: JobState | None = None
    ) -> ClusterPage[Job]:
        account = principal.require(Role.VIEWER)
        listing = await listed(self.orchestrator, account, asked, JobsBackend.list_jobs)
        clusters = asked.clusters
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
        return paged(listing, asked, found)

    async def vanished(
        self, account: Account, listed: Mapping[str, Collection[str]]
    ) -> dict[str, list[Job]]:
        """By cluster, the jobs Asgard recorded for the account on clusters that answered
        (``listed``: the ids each one has) that their cluster no longer has: each one
        failed, saying why, as ``list_jobs`` answers for them."""
        async with self.db.session() as session:
            records = await JobRecordStore(session).of_account(account.id)
        found: dict[str, list[Job]] = {}
        for record in records:
            ids = listed.get(record.cluster)
            if ids is not None and record.job_id not in ids:
                job = (await mark_vanished(self.db, record)).as_job()
                found.setdefault(record.cluster, []).append(job)
        return found

    def may_create(self, principal: Principal) -> None:
        """Refuse a viewer before its upload is read."""
        principal.require(Role.OPERATOR)

    def incoming(self) -> Path:
        """A temporary file for an upload to be streamed to; the caller removes it."""
        return self.artifacts.incoming()

    async def create(self, principal: Principal, spec: JobSpec, input_zip: Path | None) -> Job:
        """``input_zip``: the uploaded zip, on disk; checked (and read) in a thread, so a
        hostile zip costs the event loop nothing."""
        account = principal.require(Role.OPERATOR)
        if input_zip is not None:
            require(self.orchestrator, account, spec.cluster, "job_files", "job input")
        if (
            spec.timeout_s is not None
            and not self.orchestrator.capabilities(account, spec.cluster).job_timeouts
        ):
            raise InvalidValue(
                f"cluster {spec.cluster} cannot stop a job at a timeout; leave timeout_s out",
                field="timeout_s",
                cluster=spec.cluster,
            )
        data = None
        if input_zip is not None:
            data = await asyncio.to_thread(checked_input, input_zip, self.limits)
        return await launch(self.db, self.orchestrator, account, spec, data)

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
        if self.orchestrator.capabilities(account, cluster).lacking("job_logs"):
            await self.orchestrator.call(account, cluster, JobsBackend.get_job, job_id)  # 404
            require(self.orchestrator, account, cluster, "job_logs")
        return await self.orchestrator.call(
            account, cluster, JobsBackend.job_logs, job_id, follow=follow
        )

    async def output(self, principal: Principal, cluster: str, job_id: str) -> bytes | Path:
        """The job's output zip: the path of the one Asgard keeps, when it does (so it is
        sent from disk, never read into memory, however many download it at once), else
        what the kind answers."""
        account = principal.require(Role.VIEWER)
        await self.orchestrator.call(account, cluster, JobsBackend.get_job, job_id)  # visible
        require(self.orchestrator, account, cluster, "job_files", "job output")
        try:
            kept = self.artifacts.job_dir(cluster, account.namespace, job_id) / OUTPUT
        except ValueError:  # not a name the store keeps files under
            kept = None
        if kept is not None and await asyncio.to_thread(kept.is_file):
            return kept
        return await self.orchestrator.call(account, cluster, JobsBackend.job_output, job_id)


class JobFilesService:
    """What a running job may do with its own token: read its input, leave its output."""

    def __init__(self, artifacts: ArtifactStore, limits: ArchiveLimits | None = None) -> None:
        self.artifacts = artifacts
        self.limits = limits or ArchiveLimits(
            max_entries=1_000_000,
            max_unpacked_bytes=artifacts.max_output_bytes,
            max_ratio=float("inf"),
        )
        """What a job's output may hold: as many bytes as the store keeps, any ratio."""

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

    async def receive_output(
        self, grant: JobGrant, cluster: str, job_id: str, chunks: AsyncIterator[bytes]
    ) -> None:
        """The output a job streams: to a file, up to the store's ``max_output_bytes``.
        Over it, the job's output is refused for good (413, and the job says why), so a
        collector that tries again is refused again without a byte kept."""
        self._check(grant, cluster, job_id)
        where = (grant.cluster, grant.namespace, grant.job_id)
        reason = await self.artifacts.output_refused(*where)
        if reason is not None:
            raise PayloadTooLarge(f"the job's {reason}")
        upload = self.artifacts.incoming()
        made: Path | None = None
        try:
            try:
                await spool(chunks, upload, self.artifacts.max_output_bytes, "the output")
                made = await asyncio.to_thread(checked_output, upload, self.limits)
            except PayloadTooLarge:
                reason = await self.artifacts.refuse_output(*where)
                raise PayloadTooLarge(f"the job's {reason}") from None
            await self.artifacts.keep_output_file(*where, made)
        finally:
            for path in (upload, made):
                if path is not None:
                    await asyncio.to_thread(path.unlink, missing_ok=True)

    async def save_output(self, grant: JobGrant, cluster: str, job_id: str, data: bytes) -> None:
        """``receive_output`` of bytes at hand (a zip, or a tar)."""

        async def once() -> AsyncIterator[bytes]:
            yield data

        await self.receive_output(grant, cluster, job_id, once())
