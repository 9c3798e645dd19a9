"""Scheduled jobs: a JobSpec run on a schedule."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field, ValidationInfo, field_validator, model_validator

from asgard.models.base import InputModel, UserLabels
from asgard.models.job import JobFields


class Schedule(InputModel):
    value: str = Field(description="A cron expression or an ISO 8601 repeating interval")
    tz: str = "UTC"


class ScheduledJobSpec(JobFields):
    """The body of ``POST /scheduled-jobs`` and ``PUT`` on one."""

    labels: UserLabels = Field(default_factory=dict)
    schedule: Schedule
    enabled: bool = True
    concurrent: bool = False
    description: str = ""

    id: str | None = Field(
        None,
        exclude=True,
        description="Optional, the same as name: a scheduled job's id is its name",
    )

    @model_validator(mode="before")
    @classmethod
    def _accept_what_get_gave(cls, data: Any) -> Any:
        """A script that GETs a scheduled job, changes it and PUTs it back sends the fields
        Asgard added: ``id`` may stand for the name, and the read-only run times are
        dropped."""
        if not isinstance(data, dict) or cls is not ScheduledJobSpec:
            return data
        data = {k: v for k, v in data.items() if k not in READ_ONLY_FIELDS}
        if data.get("id") is not None:
            data.setdefault("name", data["id"])
        return data

    @field_validator("id")
    @classmethod
    def _id_is_the_name(cls, value: str | None, info: ValidationInfo) -> str | None:
        name = info.data.get("name")
        if value is not None and name is not None and value != name:
            raise ValueError(f"differs from name {name!r}: a scheduled job's id is its name")
        return value


class ScheduledJob(ScheduledJobSpec):
    model_config = ScheduledJobSpec.model_config | {"extra": "ignore"}

    labels: dict[str, str] = Field(
        default_factory=dict, description="What the cluster holds (Asgard's own left out)"
    )
    image: str = Field(
        description="Empty for a job that runs a command without an image (Chronos allows it)"
    )
    id: str
    next_run_at: datetime | None = Field(
        None, description="When it runs next, where Asgard schedules it (Docker)"
    )
    last_run_at: datetime | None = None
    last_job_id: str | None = Field(None, description="The one-time job its last run started")


READ_ONLY_FIELDS = frozenset(
    set(ScheduledJob.model_fields) - set(ScheduledJobSpec.model_fields) - {"id"}
)
