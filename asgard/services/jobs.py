"""One-time jobs across clusters, and the files they take and leave."""

from __future__ import annotations

import io
import tarfile
import zipfile
from collections.abc import Collection

from asgard.archives import is_tar, tar_to_zip
from asgard.artifacts import ArtifactStore
from asgard.backends.base import LogStream, Orchestrator
from asgard.errors import Forbidden, InvalidValue, NotFound
from asgard.job_tokens import JobGrant
from asgard.models import Job, JobSpec, Role
from asgard.models.job import JobState
from asgard.services.pagination import ClusterPage, paginate
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
    def __init__(self, orchestrator: Orchestrator) -> None:
        self.orchestrator = orchestrator

    async def list_jobs(
        self,
        principal: Principal,
        *,
        clusters: Collection[str] | None,
        state: JobState | None,
        limit: int,
        cursor: str | None,
    ) -> ClusterPage[Job]:
        account = principal.require(Role.VIEWER)
        listing = await self.orchestrator.list_jobs(account, clusters)
        found = [j for j in listing.items if state is None or j.status.state == state]
        return ClusterPage(
            page=paginate(found, lambda j: (j.cluster, j.id), limit, cursor),
            errors=listing.errors,
            as_of=listing.as_of,
        )

    async def create(self, principal: Principal, spec: JobSpec, input_zip: bytes | None) -> Job:
        account = principal.require(Role.OPERATOR)
        if input_zip is not None:
            check_zip(input_zip, "input")
        return await self.orchestrator.create_job(account, spec, input_zip)

    async def get(self, principal: Principal, cluster: str, job_id: str) -> Job:
        account = principal.require(Role.VIEWER)
        return await self.orchestrator.get_job(account, cluster, job_id)

    async def delete(self, principal: Principal, cluster: str, job_id: str) -> None:
        account = principal.require(Role.OPERATOR)
        await self.orchestrator.delete_job(account, cluster, job_id)

    async def logs(
        self, principal: Principal, cluster: str, job_id: str, *, follow: bool
    ) -> LogStream:
        account = principal.require(Role.VIEWER)
        return await self.orchestrator.job_logs(account, cluster, job_id, follow=follow)

    async def output(self, principal: Principal, cluster: str, job_id: str) -> bytes:
        account = principal.require(Role.VIEWER)
        return await self.orchestrator.job_output(account, cluster, job_id)


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
