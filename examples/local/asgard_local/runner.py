"""One-time jobs on the host: each job a folder of the state folder and a ``JobRun``.

A job's folder holds its spec (``job.json``), its status (``status.json``), its log, and
its ``input/`` and ``output/`` (or, for a workflow's stage, its workflow's folders). With
isolation (``asgard_local.isolation``) the command sees those at ``/input`` and
``/output``; without it the job runs in its folder's ``home/``, and files are refused.
A job's status is read from its run while this Asgard runs it, else from its record.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import stat
from collections.abc import AsyncIterator
from pathlib import Path

from asgard.backends.contract import WorkspaceMount
from asgard.errors import ClusterUnreachable, NotFound, NotSupported
from asgard.models import Account, Job, JobSpec, JobStatus, ResourceLimits
from asgard.models.base import utc_now
from asgard.models.job import new_job_id
from asgard_local.client import LocalClient
from asgard_local.commands import argv_of, process_env, require_program
from asgard_local.config import KIND
from asgard_local.converters import record_to_job
from asgard_local.feed import JOBS, Changes
from asgard_local.identities import Identity, hand_over, own_folder
from asgard_local.isolation import Isolation
from asgard_local.job_files import unpack_input, zip_folder
from asgard_local.job_run import INTERRUPTED, JobRun
from asgard_local.logs import follow_file
from asgard_local.processes import Launch
from asgard_local.store import PASS_THROUGH, JobRecord, MountRecord, Store, pass_through
from asgard_local.workspaces import Workspaces

__all__ = ["JobRunner"]


def folder_bytes(folder: Path) -> int:
    """The bytes of the regular files under ``folder``, links not followed."""
    total = 0
    for top, _dirs, files in os.walk(folder):
        for name in files:
            try:
                found = os.lstat(os.path.join(top, name))
            except OSError:  # gone meanwhile
                continue
            if stat.S_ISREG(found.st_mode):
                total += found.st_size
    return total


class JobRunner:
    def __init__(
        self,
        client: LocalClient,
        store: Store,
        changes: Changes,
        isolation: Isolation,
        *,
        grace_s: float,
    ) -> None:
        self.client = client
        self.cluster = client.cluster
        self.store = store
        self.changes = changes
        self.isolation = isolation
        self.grace_s = grace_s
        self.workspaces = Workspaces(store, client.cluster)
        self.runs: dict[tuple[str, str], JobRun] = {}
        self.closed = False

    def unsupported(self, operation: str) -> NotSupported:
        return NotSupported(KIND, operation, cluster=self.cluster)

    # starting

    async def create(
        self, account: Account, spec: JobSpec, input_zip: bytes | None, mount: WorkspaceMount | None
    ) -> Job:
        argv = argv_of(spec.command, spec.args, field="command", cluster=self.cluster)
        if not self.isolation.available and input_zip is not None:
            raise self.unsupported("job input")
        if not self.isolation.available and mount is not None:
            raise self.unsupported("workflow volumes")
        field = "command" if spec.command else "args"
        require_program(argv, process_env("", spec.env), field=field, cluster=self.cluster)
        namespace, job_id = account.namespace, new_job_id(spec.name)
        folder = self.store.job_dir(namespace, job_id)
        identity = self.client.identities.of(namespace)
        try:
            given, made = self._folders(folder, namespace, identity, mount)
            if input_zip is not None:
                await asyncio.to_thread(unpack_input, input_zip, given)
            if given == folder / "input":  # unpacked while only Asgard could write there
                await asyncio.to_thread(hand_over, given, identity)
            record = JobRecord(
                namespace=namespace,
                id=job_id,
                spec=spec,
                created_at=utc_now(),
                mount=MountRecord(**vars(mount)) if mount is not None else None,
                isolated=self.isolation.available,
            )
            if self.closed:  # Asgard stopped while the input was unpacked: start nothing
                raise ClusterUnreachable(self.cluster, f"local cluster {self.cluster} is closing")
            self.store.save_job(record)
            run = JobRun(
                record,
                self._launch(record, folder, argv, (given, made), identity),
                store=self.store,
                grace_s=self.grace_s,
                changed=lambda: self.changes.tell(JOBS, namespace),
            )
            run.start()
        except BaseException:
            self.store.remove_job(namespace, job_id)
            raise
        self.runs[(namespace, job_id)] = run
        return record_to_job(record, run.status, cluster=self.cluster)

    def _folders(
        self,
        folder: Path,
        namespace: str,
        identity: Identity | None,
        mount: WorkspaceMount | None,
    ) -> tuple[Path, Path]:
        """The job's ``input`` (Asgard's until it is unpacked: see ``hand_over``),
        ``output`` and ``home`` (its identity's), and ``root`` (Asgard's)."""
        pass_through(folder.parent)
        folder.mkdir(mode=PASS_THROUGH)
        folder.chmod(PASS_THROUGH)
        for name in ("input", "root"):
            own_folder(folder / name, None)
        for name in ("output", "home"):
            own_folder(folder / name, identity)
        if mount is not None:
            return self.workspaces.folders(namespace, mount, identity, empty=folder / "input")
        return folder / "input", folder / "output"

    def _launch(
        self,
        record: JobRecord,
        folder: Path,
        argv: list[str],
        files: tuple[Path, Path],
        identity: Identity | None,
    ) -> Launch:
        log, pid_file = folder / "log", folder / "pid.json"
        if record.isolated:  # the launcher switches to the identity itself, once it is set up
            given, made = files
            wrapped = self.isolation.wrap(
                argv, root=folder / "root", input_dir=given, output_dir=made, user=identity
            )
            env = process_env("/tmp", record.spec.env)
            return Launch(argv=wrapped, env=env, cwd=folder, log=log, pid_file=pid_file)
        home = folder / "home"
        return Launch(
            argv=argv,
            env=process_env(str(home), record.spec.env),
            cwd=home,
            log=log,
            user=identity,
            pid_file=pid_file,
        )

    # reading

    def _record(self, namespace: str, job_id: str) -> JobRecord:
        record = self.store.job(namespace, job_id)
        if record is None:
            raise NotFound(f"job '{job_id}' not found", cluster=self.cluster)
        return record

    def _status(self, record: JobRecord) -> JobStatus:
        run = self.runs.get((record.namespace, record.id))
        if run is not None:
            return run.status
        stored = self.store.status(record.namespace, record.id)
        return stored or JobStatus(state="pending", message="starting")

    def get(self, namespace: str, job_id: str) -> Job:
        record = self._record(namespace, job_id)
        return record_to_job(record, self._status(record), cluster=self.cluster)

    def of(self, namespace: str) -> list[Job]:
        found = []
        for job_id in self.store.job_ids(namespace):
            record = self.store.job(namespace, job_id)
            if record is not None:
                found.append(record_to_job(record, self._status(record), cluster=self.cluster))
        return found

    def reserved(self) -> list[ResourceLimits]:
        """What running jobs declare, for the host's used resources."""
        return [r.record.spec.resources for r in self.runs.values() if r.status.active]

    async def output(self, namespace: str, job_id: str, limit: int | None = None) -> bytes:
        """The job's output folder as a zip, made in a thread; a folder holding more than
        ``limit`` bytes is not zipped at all (404 saying so)."""
        record = self._record(namespace, job_id)
        if not record.isolated:
            raise self.unsupported("job output")
        if not self._status(record).finished:
            raise NotFound(f"job '{job_id}' has not finished: no output yet", cluster=self.cluster)
        folder = self.store.job_dir(namespace, job_id) / "output"
        if record.mount is not None:
            workspace = self.store.workspace_dir(namespace, record.mount.workspace)
            folder = workspace / record.mount.output_dir
        if limit is not None and await asyncio.to_thread(folder_bytes, folder) > limit:
            raise NotFound(
                f"job '{job_id}' has no output: output over the limit of {limit} bytes",
                cluster=self.cluster,
            )
        reader = self.client.identities.of(namespace)
        return await asyncio.to_thread(zip_folder, folder, reader)

    async def logs(self, namespace: str, job_id: str, *, follow: bool) -> AsyncIterator[bytes]:
        record = self._record(namespace, job_id)

        def finished() -> bool:
            return self.store.job(namespace, job_id) is None or self._status(record).finished

        log = self.store.job_dir(namespace, job_id) / "log"
        return follow_file(log, tail=None, follow=follow, finished=finished)

    # removing

    async def delete(self, namespace: str, job_id: str) -> None:
        self._record(namespace, job_id)
        run = self.runs.pop((namespace, job_id), None)
        if run is not None:
            await run.cancel()
        await asyncio.to_thread(shutil.rmtree, self.store.job_dir(namespace, job_id), True)
        self.changes.tell(JOBS, namespace)

    # life

    def recover(self) -> None:
        """Jobs that were running when the last Asgard stopped ended then: say so."""
        for record in self.store.jobs():
            status = self.store.status(record.namespace, record.id)
            if status is None or not status.finished:
                self._interrupted(record, status)
        self.changes.tell(JOBS, None)

    def _interrupted(self, record: JobRecord, status: JobStatus | None) -> None:
        before = status or JobStatus(state="pending")
        self.store.save_status(
            record.namespace,
            record.id,
            before.model_copy(
                update={
                    "state": "failed",
                    "active": 0,
                    "failed": before.failed + 1,
                    "finished_at": utc_now(),
                    "message": INTERRUPTED,
                }
            ),
        )

    async def close(self) -> None:
        """Stop every job this Asgard runs; each is recorded as interrupted."""
        self.closed = True
        running = [r for r in self.runs.values() if not r.status.finished]
        await asyncio.gather(*(r.cancel() for r in running))
        for run in running:
            self._interrupted(run.record, run.status)
        self.runs.clear()
