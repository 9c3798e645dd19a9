"""The reconciler: job records against what the clusters run, every ``reconcile_s``.

Only the process holding the ``reconciler`` lease acts, so several Asgard
processes sharing a database never reconcile at once. The decision table (also
in docs/jobs.rst):

================================  =======================  ==================================
record                            cluster                  action
================================  =======================  ==================================
pending or running                the job, any state       the record follows it; a move to
                                                           a finished state asks the backend
                                                           to settle it (collect ``/output``)
pending or running                no such job              record ``failed``: vanished
finished                          no such job              kept until ``job_retention_s``
                                                           after it finished, then removed
finished, past retention          the job                 job deleted, then the record
none                              a job labelled Asgard's  reported; deleted once it is
                                                           ``orphan_grace_s`` old (by its
                                                           creation time on the cluster; else
                                                           once seen for that long)
any                               did not answer           nothing: no news is not bad news
================================  =======================  ==================================
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog

from asgard.backends.contract import JobsBackend
from asgard.backends.orchestrator import Orchestrator
from asgard.db.engine import Database
from asgard.db.job_records import JobRecordStore
from asgard.db.stores import AccountStore
from asgard.errors import AsgardError, NotFound
from asgard.job_ledger import mark_vanished
from asgard.leases import LeasedLoop, process_holder
from asgard.models import Account, Job, JobStatus
from asgard.models.base import utc_now

log = structlog.get_logger(__name__)

LEASE = "reconciler"


@dataclass
class Round:
    """What one pass did, for logs and tests."""

    followed: int = 0
    settled: list[str] = field(default_factory=list)
    vanished: list[str] = field(default_factory=list)
    expired: list[str] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)
    removed_orphans: list[str] = field(default_factory=list)
    skipped_clusters: set[str] = field(default_factory=set)


class Reconciler:
    def __init__(
        self,
        db: Database,
        orchestrator: Orchestrator,
        *,
        interval_s: float,
        orphan_grace_s: float,
        retention_s: float,
        holder: str | None = None,
        lease: str = LEASE,
    ) -> None:
        self.db = db
        self.orchestrator = orchestrator
        self.interval_s = interval_s
        self.orphan_grace = timedelta(seconds=orphan_grace_s)
        self.retention = timedelta(seconds=retention_s)
        self.orphans_seen: dict[tuple[str, str, str], float] = {}
        """(namespace, cluster, job id) -> when first seen without a record (monotonic)."""
        # The lease outlives two missed passes, then another process may act.
        self.loop = LeasedLoop(
            db,
            lease,
            self.once,
            every_s=interval_s,
            ttl_s=interval_s * 3 + 5,
            holder=holder or process_holder(self),
        )

    async def start(self) -> None:
        await self.loop.start()

    async def close(self) -> None:
        await self.loop.close()

    async def lead(self) -> bool:
        return await self.loop.lead()

    async def _accounts(self) -> list[Account]:
        """Every account: orphans are found in namespaces with no record at all, too."""
        async with self.db.session() as session:
            return await AccountStore(session).every()

    async def once(self) -> Round:
        done = Round()
        for account in await self._accounts():
            await self._account(account, done)
        if done.vanished or done.removed_orphans or done.expired or done.orphans:
            log.info(
                "reconciled",
                followed=done.followed,
                vanished=done.vanished,
                expired=done.expired,
                orphans=done.orphans,
                removed_orphans=done.removed_orphans,
            )
        return done

    async def _account(self, account: Account, done: Round) -> None:
        listing = await self.orchestrator.fan_out(account, None, JobsBackend.list_jobs)
        failed = {e.cluster for e in listing.errors}
        done.skipped_clusters |= failed
        running = {(j.cluster, j.id): j for j in listing.items}
        async with self.db.session() as session:
            records = await JobRecordStore(session).of_account(account.id)
        now = utc_now()
        for record in records:
            key = (record.cluster, record.job_id)
            if record.cluster in failed or not account.may_use(record.cluster):
                continue
            job = running.pop(key, None)
            if job is None:
                if not record.status.finished:
                    await mark_vanished(self.db, record)
                    done.vanished.append(record.job_id)
                elif record.finished_at and now - record.finished_at > self.retention:
                    await self._forget(account, record.cluster, record.job_id)
                    done.expired.append(record.job_id)
                continue
            done.followed += 1
            if record.status.finished:
                if record.finished_at and now - record.finished_at > self.retention:
                    with contextlib.suppress(NotFound):
                        await self.orchestrator.call(
                            account, record.cluster, JobsBackend.delete_job, record.job_id
                        )
                    await self._forget(account, record.cluster, record.job_id)
                    done.expired.append(record.job_id)
                continue
            await self._observe(account, record.cluster, record.job_id, job.status, None)
            if job.status.finished:
                with contextlib.suppress(AsgardError):
                    await self.orchestrator.call(
                        account, record.cluster, JobsBackend.settle_job, record.job_id
                    )
                done.settled.append(record.job_id)
        await self._orphans(account, list(running.values()), done)

    def _in_grace(self, key: tuple[str, str, str], job: Job, now: datetime) -> bool:
        """Whether an orphan is still given time: its age, from its creation as the cluster
        tells it (so a restart does not start the clock again), else from when this
        process first saw it."""
        first = self.orphans_seen.setdefault(key, time.monotonic())
        if job.created_at is not None and now - job.created_at >= self.orphan_grace:
            return False
        return time.monotonic() - first < self.orphan_grace.total_seconds()

    async def _orphans(self, account: Account, jobs: list[Job], done: Round) -> None:
        by_key = {(account.namespace, j.cluster, j.id): j for j in jobs}
        for key in list(self.orphans_seen):
            if key[0] == account.namespace and key not in by_key:
                del self.orphans_seen[key]  # gone, or recorded after all
        now = utc_now()
        for (namespace, cluster, job_id), job in sorted(by_key.items(), key=lambda kv: kv[0]):
            if self._in_grace((namespace, cluster, job_id), job, now):
                done.orphans.append(job_id)
                continue
            async with self.db.session() as session:
                if await JobRecordStore(session).get(account.id, cluster, job_id) is not None:
                    continue  # created through Asgard while this pass was looking
            log.warning(
                "removing a job Asgard has no record of",
                cluster=cluster,
                namespace=namespace,
                job=job_id,
            )
            with contextlib.suppress(NotFound):
                await self.orchestrator.call(account, cluster, JobsBackend.delete_job, job_id)
            del self.orphans_seen[(namespace, cluster, job_id)]
            done.removed_orphans.append(job_id)

    async def _observe(
        self, account: Account, cluster: str, job_id: str, status: JobStatus, reason: str | None
    ) -> None:
        async with self.db.writing() as session:
            await JobRecordStore(session).observe(account.id, cluster, job_id, status, reason)

    async def _forget(self, account: Account, cluster: str, job_id: str) -> None:
        async with self.db.writing() as session:
            await JobRecordStore(session).remove(account.id, cluster, job_id)
