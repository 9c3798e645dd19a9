"""Workflows: ordered stages of jobs sharing one volume."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from asgard.models.base import AsgardModel, DnsLabel, InputModel
from asgard.models.job import JobFields, JobState


class StageSpec(JobFields):
    always_run: bool = Field(False, description="Run even after an earlier stage failed")


class WorkflowSpec(InputModel):
    cluster: str
    name: DnsLabel
    stages: list[StageSpec] = Field(min_length=1)
    timeout_s: float | None = Field(None, gt=0)


class WorkflowStage(AsgardModel):
    name: str
    job_id: str | None = None
    state: JobState


class Workflow(AsgardModel):
    id: str
    cluster: str
    name: str
    state: JobState
    stages: list[WorkflowStage]
    created_at: datetime | None = None
    finished_at: datetime | None = None
