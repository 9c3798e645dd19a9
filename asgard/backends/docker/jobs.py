"""One-time jobs of a Docker cluster, whichever mode the engine is in: what both modes
share, written once.

A mode says how it runs one job (``engine.jobs.EngineJobs``: a container;
``swarm.jobs.SwarmJobs``: a replicated-job service), in the methods ``DockerJobs``
leaves abstract. Everything else is here: the contract's job operations, the watchers
that stop a job at its ``timeout_s`` and collect its ``/output`` when it ends, the
retention pass, and workflow volumes (the same local volumes in both modes). A watcher
follows its job through the mode that ran it. ``DockerJobsBackend`` is the jobs part a
cluster is given: each operation on the mode the engine is in (``JobsByMode``), and the
janitor that removes finished jobs once their retention has passed (once per deployment,
by lease).
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Mapping
from datetime import timedelta

import structlog

from asgard.artifacts import ArtifactStore
from asgard.backends.contract import JobsBackend, LogStream, WorkspaceMount
from asgard.backends.docker.client import DockerClient
from asgard.backends.docker.config import KIND
from asgard.backends.docker.job_status import OUTCOME, Outcome
from asgard.backends.docker.workspaces import DockerWorkspaces
from asgard.backends.feeds import Nudges, Signal
from asgard.backends.modes import JobsByMode, Mode
from asgard.backends.registry import BackendContext
from asgard.errors import AsgardError, Conflict, InvalidValue, NotFound
from asgard.models import Account, Job, JobSpec, JobStatus, WorkflowVolume
from asgard.models.base import utc_now
from asgard.tasks import cancel_and_wait

__all__ = ["DockerJobs", "DockerJobsBackend"]

log = structlog.get_logger(__name__)

WATCH_EVERY_S = 0.5
RETRY_AFTER_S = 5.0


def _collecting(job: Job) -> Job:
    status = job.status.model_copy(
        update={"state": "running", "finished_at": None, "message": COLLECTING}
    )
    return job.model_copy(update={"status": status})


COLLECTING = "ended; its output is being collected"


class DockerJobs(JobsBackend, ABC):
    """The jobs of one mode of an engine. Namespaces rather than accounts in what a mode
    implements, since the watchers and the retention pass work on every account's jobs."""

    def __init__(self, client: DockerClient, artifacts: ArtifactStore, nudges: Nudges) -> None:
        super().__init__(client.cluster, KIND)
        self.client = client
        self.artifacts = artifacts
        self.workspaces = DockerWorkspaces(client)
        self.nudges = nudges
        """Told when a job's output is settled: the job then shows as ended, which no
        engine event announces."""
        self._watchers: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._started = False

    # how this mode runs a job

    @abstractmethod
    async def launch(
        self, account: Account, spec: JobSpec, input_zip: bytes | None, mount: WorkspaceMount | None
    ) -> str:
        """Start the job with its input (or its workflow's folders); its new id."""

    @abstractmethod
    async def find(self, namespace: str, job_id: str) -> Job:
        """The job as the engine tells it now; ``NotFound`` when it has none."""

    @abstractmethod
    async def status(self, namespace: str, job_id: str) -> JobStatus:
        """The job's status alone (cheaper than ``find``)."""

    @abstractmethod
    async def jobs_in(self, namespace: str) -> list[Job]:
        """Every job of the namespace."""

    @abstractmethod
    async def every_job(self) -> list[tuple[str, str]]:
        """(namespace, job id) of every job on the engine, whoever's."""

    @abstractmethod
    async def is_active(self, namespace: str, job_id: str) -> bool:
        """Whether something of the job runs, or is about to (a retry)."""

    @abstractmethod
    async def stop(self, namespace: str, job_id: str) -> None:
        """Kill what runs of the job now (its timeout passed)."""

    @abstractmethod
    async def collect_output(self, namespace: str, job_id: str) -> str | None:
        """Copy the finished job's ``/output`` into Asgard's store (``job_output``); None
        once kept, or why it was refused (over ``max_output_bytes``)."""

    @abstractmethod
    async def remove(self, namespace: str, job_id: str) -> None:
        """Remove the job, what it made on the engine and its stored files."""

    @abstractmethod
    async def log_stream(self, namespace: str, job_id: str, *, follow: bool) -> LogStream:
        """The job's output as the engine gives it."""

    async def outcome(self, namespace: str, job_id: str) -> Outcome | None:
        """How Asgard ended the job (its timeout, its output refused), when it did."""
        return Outcome.from_note(
            await self.artifacts.read_note(self.cluster, namespace, job_id, OUTCOME)
        )

    # the contract

    async def create_job(
        self,
        account: Account,
        spec: JobSpec,
        input_zip: bytes | None,
        mount: WorkspaceMount | None = None,
    ) -> Job:
        job_id = await self.launch(account, spec, input_zip, mount)
        self._watch(account.namespace, job_id)
        return await self.find(account.namespace, job_id)

    async def create_workspace(self, account: Account, name: str, volume: WorkflowVolume) -> None:
        await self.workspaces.create(account.namespace, name)

    async def delete_workspace(self, account: Account, name: str) -> None:
        await self.workspaces.delete(account.namespace, name)

    async def get_job(self, account: Account, job_id: str) -> Job:
        found = await self.find(account.namespace, job_id)
        return (await self._collecting(account.namespace, [found]))[0]

    async def list_jobs(self, account: Account) -> list[Job]:
        found = await self.jobs_in(account.namespace)
        return await self._collecting(account.namespace, found)

    async def _collecting(self, namespace: str, jobs: list[Job]) -> list[Job]:
        """A job that ended is shown running until its output is kept or refused: its end
        (and the record of it, which never moves once finished) then says what became of
        its output, such as ``output over the limit of N bytes``. Such a job is watched
        here if it was not (the process that started it may have been killed), so that
        its output is collected and the job seen to end."""
        ended = [j.id for j in jobs if j.status.finished]
        if not ended:
            return jobs

        def unsettled() -> set[str]:
            return {i for i in ended if not self.artifacts.settled(self.cluster, namespace, i)}

        waiting = await asyncio.to_thread(unsettled)
        for job_id in waiting:  # whoever watched it may be gone (another process, killed)
            self._watch(namespace, job_id)
        return [_collecting(j) if j.id in waiting else j for j in jobs]

    async def delete_job(self, account: Account, job_id: str) -> None:
        watcher = self._watchers.pop((account.namespace, job_id), None)
        if watcher is not None:
            watcher.cancel()
        await self.remove(account.namespace, job_id)

    async def job_logs(self, account: Account, job_id: str, *, follow: bool) -> LogStream:
        return await self.log_stream(account.namespace, job_id, follow=follow)

    async def job_output(self, account: Account, job_id: str) -> bytes:
        status = await self.status(account.namespace, job_id)
        if not status.finished:
            raise NotFound(f"job '{job_id}' has not finished: no output yet", cluster=self.cluster)
        await self._collect(account.namespace, job_id)
        reason = await self.artifacts.output_refused(self.cluster, account.namespace, job_id)
        stored = await self.artifacts.read_output(self.cluster, account.namespace, job_id)
        if stored is None:
            why = reason or "its output could not be kept"
            raise NotFound(f"job '{job_id}' has no output: {why}", cluster=self.cluster)
        return stored

    async def _collect(self, namespace: str, job_id: str) -> None:
        """Keep the finished job's output, once: output already kept, or refused, is not
        collected again. Refused output ends the job failed, saying why (beside any end
        Asgard caused before, such as its timeout)."""
        if await self.artifacts.output_settled(self.cluster, namespace, job_id):
            return
        reason = await self.collect_output(namespace, job_id)
        if reason is None:
            self._settled(namespace, job_id)
            return
        before = await self.outcome(namespace, job_id)
        ended = Outcome(
            state="failed",
            message=f"{before.message}; {reason}" if before else reason,
            finished_at=(before.finished_at if before else None) or utc_now(),
        )
        await self.artifacts.save_note(self.cluster, namespace, job_id, OUTCOME, ended.as_note())
        self._settled(namespace, job_id)
        log.warning("job output refused", job=job_id, reason=reason)

    # background work

    async def settle_job(self, account: Account, job_id: str) -> None:
        """Follow the job again if nothing does (a watcher lost with a crash): it stops
        the job at its timeout and keeps its output."""
        self._watch(account.namespace, job_id)

    async def start(self) -> None:
        """Resume watching this mode's jobs that were running before Asgard (re)started.
        An engine that cannot tell which (it is down) fails the start, which the cluster
        tries again once the engine answers."""
        if self._started:
            return
        for namespace, job_id in await self.every_job():
            self._watch(namespace, job_id)
        self._started = True

    async def close(self) -> None:
        await cancel_and_wait(*self._watchers.values())
        self._watchers.clear()

    def _watch(self, namespace: str, job_id: str) -> None:
        key = (namespace, job_id)
        if key not in self._watchers or self._watchers[key].done():
            self._watchers[key] = asyncio.create_task(
                self._follow(namespace, job_id), name=f"job-{job_id}"
            )

    async def _follow(self, namespace: str, job_id: str) -> None:
        """Until the job is over: stop it at its timeout; then keep its output. Not a
        ``PeriodicLoop``: it ends with its job, and one that was lost is followed again
        by the reconciler (``settle_job``), or by whoever reads the job once it ended
        (``_collecting``)."""
        structlog.contextvars.clear_contextvars()  # not the request that happened to start it
        structlog.contextvars.bind_contextvars(
            cluster=self.cluster, namespace=namespace, job=job_id
        )
        while True:
            try:
                if await self._step(namespace, job_id):
                    return
            except NotFound:
                return  # deleted meanwhile
            except AsgardError as exc:
                log.warning("job watcher could not reach the engine", job=job_id, error=exc.msg)
                await asyncio.sleep(RETRY_AFTER_S)
                continue
            await asyncio.sleep(WATCH_EVERY_S)

    async def _step(self, namespace: str, job_id: str) -> bool:
        """One look at the job; True once there is nothing left to do for it."""
        job = await self.find(namespace, job_id)
        if await self.outcome(namespace, job_id) is not None:
            if await self.is_active(namespace, job_id):
                await self.stop(namespace, job_id)  # and any retry the cluster starts after it
                return False
        elif not job.status.finished:
            await self._enforce_timeout(namespace, job)
            return False
        if not await self.artifacts.output_settled(self.cluster, namespace, job_id):
            await self._collect(namespace, job_id)
            log.info("job finished", job=job_id, state=job.status.state, message=job.status.message)
        self._settled(namespace, job_id)  # here, or by another process: either way it shows
        return True

    def _settled(self, namespace: str, job_id: str) -> None:
        self.nudges.tell(Signal(frozenset({"jobs"}), namespace, {"jobs": frozenset({job_id})}))

    async def _enforce_timeout(self, namespace: str, job: Job) -> None:
        started = job.status.started_at or job.created_at
        if job.timeout_s is None or started is None:
            return
        if (utc_now() - started).total_seconds() < job.timeout_s:
            return
        timed_out = Outcome(
            state="failed",
            message=f"killed after its timeout of {job.timeout_s:g} s",
            finished_at=utc_now(),
        )
        await self.artifacts.save_note(
            self.cluster, namespace, job.id, OUTCOME, timed_out.as_note()
        )
        await self.stop(namespace, job.id)
        log.info("job stopped at its timeout", job=job.id, timeout_s=job.timeout_s)

    async def clean(self, retention: timedelta) -> list[str]:
        """Remove this mode's finished jobs older than ``retention``; the ids removed. One
        job the engine refuses to remove is logged and passed over; an engine that does
        not answer fails the pass, which the janitor backs off from."""
        removed = []
        for namespace, job_id in await self.every_job():
            try:
                status = await self.status(namespace, job_id)
            except NotFound:
                continue
            if (
                status.finished
                and status.finished_at
                and utc_now() - status.finished_at > retention
            ):
                try:
                    await self.remove(namespace, job_id)
                except (NotFound, Conflict, InvalidValue) as exc:
                    # This job's trouble (removed meanwhile, or refused): not the others'.
                    log.warning("a finished job could not be removed", job=job_id, error=exc.msg)
                    continue
                self._watchers.pop((namespace, job_id), None)
                removed.append(job_id)
                log.info("removed a finished job past its retention", job=job_id)
        return removed


class DockerJobsBackend(JobsByMode[DockerJobs]):
    """The jobs part of a Docker cluster: every operation runs on the jobs of the mode the
    engine is in now (``JobsByMode``), and a janitor removes finished jobs
    ``retention_s`` after they end, on whichever mode the engine is in at each pass, in
    one process of the deployment (the lease ``docker-job-retention:<cluster>``)."""

    def __init__(
        self,
        modes: Mapping[str, DockerJobs],
        mode: Mode,
        context: BackendContext,
        *,
        retention_s: float,
    ) -> None:
        super().__init__(modes, mode)
        self.retention = timedelta(seconds=retention_s)
        self.janitor = context.leased(
            "docker-job-retention",
            self.cluster,
            self.clean,
            every_s=max(1.0, min(60.0, retention_s / 2)),
        )

    async def start(self) -> None:
        """The janitor, then the mode's watchers; the janitor runs even when the engine is
        down and the watchers' start fails (the cluster tries it again)."""
        await self.janitor.start()
        await super().start()

    async def clean(self) -> list[str]:
        """Remove finished jobs older than the retention; the ids removed."""
        return await (await self.current()).clean(self.retention)

    async def close(self) -> None:
        await self.janitor.close()
        await super().close()
