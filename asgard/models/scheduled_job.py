"""Scheduled jobs: a JobSpec run on a schedule."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from asgard.models.base import InputModel
from asgard.models.job import JobFields


class Schedule(InputModel):
    value: str = Field(description="A cron expression or an ISO 8601 repeating interval")
    tz: str = "UTC"


class ScheduledJobSpec(JobFields):
    """The body of ``POST /scheduled-jobs`` and ``PUT`` on one."""

    schedule: Schedule
    enabled: bool = True
    concurrent: bool = False
    description: str = ""


class ScheduledJob(ScheduledJobSpec):
    model_config = ScheduledJobSpec.model_config | {"extra": "ignore"}

    image: str = Field(
        description="Empty for a job that runs a command without an image (Chronos allows it)"
    )
    id: str
    next_run_at: datetime | None = Field(
        None, description="When it runs next, where Asgard schedules it (Docker)"
    )
    last_run_at: datetime | None = None
    last_job_id: str | None = Field(None, description="The one-time job its last run started")
