"""One-time jobs: the counts a batch engine keeps (active, succeeded, failed), one clear state."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Literal

from pydantic import Field

from asgard.models.app import Command, ResourceLimits
from asgard.models.base import AsgardModel, DnsLabel, InputModel, UserLabels


def new_job_id(name: str) -> str:
    """A job's id: its name and a random suffix, so the same name can run again."""
    return f"{name[:56].rstrip('-')}-{secrets.token_hex(3)}"


JobState = Literal["pending", "running", "succeeded", "failed", "cancelled"]
FINISHED_JOB_STATES: frozenset[str] = frozenset({"succeeded", "failed", "cancelled"})


class JobFields(InputModel):
    """What a job runs; the fields of ``POST /jobs`` and of every stage and schedule."""

    cluster: str
    name: DnsLabel
    image: str = Field(min_length=1)
    command: Command | None = Field(None, description="Replaces the image's entrypoint")
    args: Command | None = None
    env: dict[str, str] = Field(default_factory=dict)
    resources: ResourceLimits = Field(default_factory=ResourceLimits)
    timeout_s: float | None = Field(None, gt=0, description="Kill the job after this long")
    retries: int = Field(0, ge=0, le=100, description="Restart a failed job up to this many times")
    labels: dict[str, str] = Field(default_factory=dict)


class JobSpec(JobFields):
    """The body of ``POST /jobs`` (or its ``spec`` part, with an ``input`` zip beside it)."""

    labels: UserLabels = Field(default_factory=dict)


class JobStatus(AsgardModel):
    state: JobState
    active: int = Field(0, description="Instances running now")
    succeeded: int = Field(0, description="Instances that ended with success")
    failed: int = Field(0, description="Instances that failed (retries included)")
    exit_code: int | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    message: str | None = Field(None, description="Why: exit code, OOM, timeout, cancelled")

    @property
    def finished(self) -> bool:
        return self.state in FINISHED_JOB_STATES


class JobTransition(AsgardModel):
    """One change of a job's state, as Asgard saw it happen."""

    state: JobState
    at: datetime
    reason: str | None = None


class Job(JobFields):
    model_config = JobFields.model_config | {"extra": "ignore"}

    image: str = Field(
        description="Empty for a job that runs a command without an image (Chronos allows it)"
    )
    id: str
    status: JobStatus
    created_at: datetime | None = None
    history: list[JobTransition] = Field(
        default_factory=list,
        description="The states the job went through, from Asgard's record of it",
    )
