"""Scheduled jobs of a local cluster. The host has no scheduler, so Asgard keeps the
schedules (``KeptSchedules``) and starts each run as a one-time job of ``jobs.py``.
What is the host's here: a schedule whose program the host does not have is refused
when it is saved, so a typo is a 422 now rather than a run that fails at three in the
morning."""

from __future__ import annotations

from asgard.backends.kept_schedules import KeptSchedules
from asgard.models import Account, ScheduledJobSpec
from asgard_local.commands import argv_of, process_env, require_program
from asgard_local.config import KIND


class LocalScheduledJobsBackend(KeptSchedules):
    def __init__(self, cluster: str) -> None:
        super().__init__(cluster, KIND)

    async def check(self, account: Account, spec: ScheduledJobSpec) -> None:
        argv = argv_of(spec.command, spec.args, field="command", cluster=self.cluster)
        require_program(argv, process_env("", spec.env), field="command", cluster=self.cluster)
