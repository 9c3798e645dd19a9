"""Scheduled jobs: a JobSpec run on a schedule."""

from __future__ import annotations

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
