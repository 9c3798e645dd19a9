"""What the client reads that the server's own models cannot hold as they are: a version
whose spec an AppSpec refuses, and the lines of ``logs?format=jsonl`` and the notices of
``/events``, which the server writes without a model of their own. Everything else is
parsed with ``asgard.models`` and ``asgard.http.schemas``."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from asgard.models import AppSpec
from asgard.models import AppVersion as ServerAppVersion

__all__ = ["AppVersion", "LogLine", "Notice", "VersionBody", "VersionList"]


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore")


class AppVersion(ServerAppVersion):
    """One spec an app ran; ``id`` is what rollback takes. A spec a cluster ran that an
    AppSpec cannot hold (an app without an image) is served as it is, with ``unsupported``
    saying why it cannot be rolled back to: the client keeps that one as the mapping it
    came as, instead of refusing the whole list."""

    spec: AppSpec | dict[str, Any]  # type: ignore[assignment]

    def spec_field(self, name: str) -> Any:
        if isinstance(self.spec, AppSpec):
            return getattr(self.spec, name, None)
        return self.spec.get(name)


class VersionList(_Answer):
    versions: list[AppVersion] = Field(description="Newest first; the first is what runs")


class VersionBody(_Answer):
    version: AppVersion


class LogLine(_Answer):
    """One line of ``logs?format=jsonl``."""

    task: str | None = None
    ts: datetime | None = None
    stream: str | None = None
    line: str


class Notice(_Answer):
    """A frame of ``/events`` that is Asgard's own, not a change: ``resync`` (read the lists
    again: what was missed cannot be told), ``overflow`` (the stream was cut) or
    ``closing`` (the server is stopping)."""

    name: Literal["resync", "overflow", "closing", "revoked"] | str
    msg: str = ""
    id: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)
