"""One line of a task's log, with the time and the stream it came from.

Kinds read their clusters' logs into these, so that lines of many tasks can be put
in time order in one place (``asgard.backends.log_merge``) rather than by parsing text.
A plain frozen dataclass, not a pydantic model: a follower may see thousands a second.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal

__all__ = ["MAX_LINE_CHARS", "LogLine", "LogStreamName", "clip"]

LogStreamName = Literal["stdout", "stderr", "output", "asgard"]
"""``output`` where the cluster does not tell stdout from stderr (Kubernetes merges them);
``asgard`` for Asgard's own lines: a task that ended, lines dropped for a slow reader."""

MAX_LINE_CHARS: Final = 16 * 1024
"""Longer lines are cut (Docker splits its own at 16 KiB): what a reader's buffer holds is
a number of lines, so each must have a size."""


@dataclass(frozen=True, slots=True)
class LogLine:
    task: str | None
    """The task's id as ``/tasks`` lists it; None for a line about the whole stream."""
    ts: datetime
    """When the cluster stamped the line (UTC); where it stamps none, when Asgard read it."""
    stream: LogStreamName
    line: str
    """Without its line break."""


def clip(text: str) -> str:
    """A line no longer than ``MAX_LINE_CHARS``."""
    return text if len(text) <= MAX_LINE_CHARS else text[:MAX_LINE_CHARS] + " [cut]"
