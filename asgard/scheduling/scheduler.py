"""Starts the runs of the schedules Asgard keeps, in one process at a time.

Every ``tick_s`` the holder of the ``scheduler`` lease looks for schedules whose
next run is due. A due run starts a one-time job (recorded like any other), unless
the schedule is not ``concurrent`` and its last job is still going: that run is
skipped, never queued. Runs missed while no Asgard was running are not all made
up: one run is started if the latest missed one is less than
``starting_deadline_s`` late, none otherwise (as Kubernetes' startingDeadlineSeconds),
and the schedule goes on from now.
"""

from __future__ import annotations

from datetime import timedelta

import structlog

from asgard.backends.contract import JobsBackend
from asgard.backends.orchestrator import Orchestrator
from asgard.db.engine import Database
from asgard.db.stores import AccountStore
from asgard.errors import AsgardError, NotFound
from asgard.job_ledger import launch
from asgard.leases import LeasedLoop, process_holder
from asgard.models import Account, JobSpec
from asgard.models.base import utc_now
from asgard.scheduling import cron
from asgard.scheduling.store import ScheduleStore, StoredSchedule

log = structlog.get_logger(__name__)

LEASE = "scheduler"
SCHEDULE_LABEL = "scheduled-job"


class Scheduler:
    def __init__(
        self,
        db: Database,
        orchestrator: Orchestrator,
        *,
        tick_s: float = 1.0,
        starting_deadline_s: float = 300.0,
        holder: str | None = None,
    ) -> None:
        self.db = db
        self.orchestrator = orchestrator
        self.tick_s = tick_s
        self.starting_deadline = timedelta(seconds=starting_deadline_s)
        self.started: list[str] = []
        """Job ids started by this scheduler, oldest first (for logs and tests)."""
        self.skipped: list[tuple[str, str]] = []
        """(schedule, why) of every run not started."""
        self.loop = LeasedLoop.ticking(
            db, LEASE, self.tick, tick_s=tick_s, holder=holder or process_holder(self)
        )

    async def start(self) -> None:
        await self.loop.start()

    async def close(self) -> None:
        await self.loop.close()

    async def tick(self) -> None:
        now = utc_now()
        async with self.db.session() as session:
            due = await ScheduleStore(session).due(now)
        for schedule in due:
            await self._run(schedule)

    async def _run(self, schedule: StoredSchedule) -> None:
        now = utc_now()
        spec = schedule.spec
        upcoming = cron.next_run(spec.schedule, now)
        assert schedule.next_run_at is not None  # due() only returns scheduled ones
        async with self.db.session() as session:
            account = await AccountStore(session).get(schedule.account_id)
        job_id: str | None = None
        why = await self._reason_to_skip(account, schedule, now)
        if why is None:
            job_id = await self._start_job(account, schedule)
        if why is not None or job_id is None:
            self.skipped.append((spec.name, why or "the job could not be started"))
            log.info("scheduled run skipped", schedule=spec.name, reason=why)
        async with self.db.writing() as session:
            await ScheduleStore(session).ran(
                schedule.id, at=now, job_id=job_id, next_run_at=upcoming
            )

    async def _reason_to_skip(
        self, account: Account, schedule: StoredSchedule, now: object
    ) -> str | None:
        assert schedule.next_run_at is not None
        if utc_now() - schedule.next_run_at > self.starting_deadline:
            return f"missed by more than {self.starting_deadline.total_seconds():g} s"
        if schedule.spec.concurrent or schedule.last_job_id is None:
            return None
        try:
            last = await self.orchestrator.call(
                account, schedule.cluster, JobsBackend.get_job, schedule.last_job_id
            )
        except NotFound:
            return None
        except AsgardError as exc:
            return f"the last run's state is unknown ({exc.msg}); not risking an overlap"
        if not last.status.finished:
            return f"the last run ({last.id}) is still {last.status.state}"
        return None

    async def _start_job(self, account: Account, schedule: StoredSchedule) -> str | None:
        spec = schedule.spec
        job_spec = JobSpec.model_validate(
            {
                **spec.model_dump(
                    include=set(JobSpec.model_fields) - {"labels"}, exclude_none=True
                ),
                "labels": {**spec.labels, SCHEDULE_LABEL: spec.name},
            }
        )
        try:
            job = await launch(self.db, self.orchestrator, account, job_spec)
        except AsgardError as exc:
            log.warning("a scheduled run could not start", schedule=spec.name, error=exc.msg)
            return None
        self.started.append(job.id)
        log.info("scheduled run started", schedule=spec.name, job=job.id)
        return job.id
