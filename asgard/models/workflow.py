"""Workflows: ordered stages of jobs sharing one volume."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from asgard.models.base import AsgardModel, DnsLabel, InputModel, UserLabels
from asgard.models.job import JobFields, JobState


class StageSpec(JobFields):
    """One stage: a JobSpec whose ``/input`` is the previous stage's ``/output``. Its
    ``cluster`` is the workflow's and may be left out."""

    cluster: str = ""
    labels: UserLabels = Field(default_factory=dict)
    always_run: bool = Field(False, description="Run even after an earlier stage failed")


class WorkflowVolume(InputModel):
    """The volume the stages share. Docker volumes grow as needed and take neither."""

    size: str = Field(
        "1Gi",
        pattern=r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)?$",
        description="Kubernetes: the PersistentVolumeClaim's request, e.g. 5Gi",
    )
    storage_class: str | None = Field(
        None, description="Kubernetes: the claim's storage class; the cluster's default if unset"
    )
    access_mode: Literal["ReadWriteOnce", "ReadWriteMany", "ReadWriteOncePod"] = Field(
        "ReadWriteOnce",
        description="Kubernetes: the claim's access mode. ReadWriteOnce keeps every stage on "
        "the node that first mounted it; ReadWriteMany (where the storage class offers it) "
        "lets stages run on any node",
    )


class WorkflowSpec(InputModel):
    cluster: str
    name: DnsLabel
    stages: list[StageSpec] = Field(min_length=1, max_length=50)
    volume: WorkflowVolume = Field(default_factory=WorkflowVolume)
    timeout_s: float | None = Field(
        None, gt=0, description="For the whole workflow; each stage also has its own"
    )


class WorkflowStage(AsgardModel):
    name: str
    job_id: str | None = Field(None, description="The one-time job running this stage")
    state: JobState
    always_run: bool = False
    started_at: datetime | None = None
    finished_at: datetime | None = None
    message: str | None = Field(None, description="Why it ended as it did, or was skipped")


class Workflow(AsgardModel):
    id: str
    cluster: str
    name: str
    state: JobState
    stages: list[WorkflowStage]
    created_at: datetime | None = None
    finished_at: datetime | None = None
    message: str | None = None
