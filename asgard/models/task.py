"""Tasks: the running instances of an app."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from asgard.models.base import HeldInBulk

TaskState = Literal["staging", "running", "finished", "failed", "killed"]


class Task(HeldInBulk):
    id: str
    cluster: str
    app_id: str
    agent_id: str | None = None
    host: str | None = None
    state: TaskState
    started_at: datetime | None = None
    ports: list[int] = Field(default_factory=list, description="Ports on the host")
    message: str | None = Field(None, description="Why the task is in its state, when known")
