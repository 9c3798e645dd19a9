"""Scheduled jobs on Docker. Neither a single engine nor a Swarm has a scheduler, so
Asgard keeps the schedules (``KeptSchedules``) and starts each run as a one-time job of
``jobs.py``. What is Docker's here: a schedule's image is found (or pulled) when the
schedule is saved, as an app's is, so a typo is a 422 now rather than a run skipped at
three in the morning."""

from __future__ import annotations

from asgard.backends.docker.client import DockerClient
from asgard.backends.docker.config import KIND
from asgard.backends.docker.images import ensure_image
from asgard.backends.kept_schedules import KeptSchedules
from asgard.models import Account, ScheduledJobSpec


class DockerScheduledJobsBackend(KeptSchedules):
    def __init__(self, client: DockerClient) -> None:
        super().__init__(client.cluster, KIND)
        self.client = client

    async def check(self, account: Account, spec: ScheduledJobSpec) -> None:
        await ensure_image(self.client, spec.image)
