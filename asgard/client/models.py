"""Answers of the routes whose server side is being written beside the client (versions,
merged logs, audit), modelled from the API contract. They ignore fields they do not know,
so a server that says more still parses."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from asgard.models import AppSpec

__all__ = [
    "AppVersion",
    "AuditEntry",
    "AuditList",
    "LogLine",
    "Notice",
    "VersionBody",
    "VersionList",
]


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore")


class AppVersion(_Answer):
    """One spec an app ran; ``id`` is what rollback takes. A spec a cluster ran that an
    AppSpec cannot hold (an app without an image) is kept as the mapping it came as, and
    ``unsupported`` says why it cannot be rolled back to."""

    id: str
    spec: AppSpec | dict[str, Any]
    created_at: datetime | None = None
    by: str | None = Field(None, description="Who deployed it")
    unsupported: str | None = None

    def spec_field(self, name: str) -> Any:
        if isinstance(self.spec, AppSpec):
            return getattr(self.spec, name, None)
        return self.spec.get(name)


class VersionList(_Answer):
    versions: list[AppVersion] = Field(description="Newest first")


class VersionBody(_Answer):
    version: AppVersion


class LogLine(_Answer):
    """One line of ``logs?format=jsonl``."""

    task: str | None = None
    ts: datetime | None = None
    stream: str | None = None
    line: str


class AuditEntry(_Answer):
    at: datetime
    user: str | int | None = None
    account: str | int | None = None
    cluster: str | None = None
    resource: str | None = None
    id: str | None = None
    action: str
    request_id: str | None = None
    status: int | None = None
    outcome: str | None = None


class AuditList(_Answer):
    entries: list[AuditEntry]
    next_cursor: str | None = None
    total: int | None = None


class Notice(_Answer):
    """A frame of ``/events`` that is Asgard's own, not a change: ``resync`` (read the lists
    again: what was missed cannot be told) or ``overflow`` (the stream was cut)."""

    name: Literal["resync", "overflow"] | str
    msg: str = ""
    id: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)
