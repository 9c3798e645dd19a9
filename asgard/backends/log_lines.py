"""Reading a cluster's log text into ``LogLine`` records, written once for every kind.

Clusters send logs in chunks that cut lines anywhere; ``LineSplitter`` puts lines back
together, never holding more than a few lines' worth of a line that does not end.
Docker and Kubernetes stamp each line, when asked, with an RFC 3339 time and a space
(``stamped``); Mesos' sandbox files carry none.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Final

from asgard.backends.common import parse_time
from asgard.errors import NotFound
from asgard.models import LogLine
from asgard.models.log_line import MAX_LINE_CHARS, LogStreamName, clip

__all__ = ["LineSplitter", "no_lines", "stamped", "text_of", "unknown_task"]

PENDING_LIMIT: Final = 4 * MAX_LINE_CHARS
"""Bytes of an unended line kept at most: past that it is given out as it is."""


class LineSplitter:
    """Chunks in, whole lines out (without their line break)."""

    def __init__(self) -> None:
        self.pending = b""

    def feed(self, chunk: bytes) -> list[bytes]:
        *lines, self.pending = (self.pending + chunk).split(b"\n")
        if len(self.pending) > PENDING_LIMIT:
            lines.append(self.pending)
            self.pending = b""
        return lines

    def rest(self) -> list[bytes]:
        """What is left once the stream has ended: a last line without a break."""
        rest, self.pending = self.pending, b""
        return [rest] if rest else []


def text_of(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace").rstrip("\r")


def stamped(task: str, stream: LogStreamName, raw: bytes, last: datetime) -> LogLine:
    """A line as Docker and Kubernetes send it when asked for times: an RFC 3339 time
    (with nanoseconds), a space, the text. A line without one (the rest of a line the
    cluster split) keeps the time of the line before it."""
    text = text_of(raw)
    head, _, rest = text.partition(" ")
    try:
        ts = parse_time(head)
    except ValueError:
        ts = None
    if ts is None:
        ts, rest = last, text
    return LogLine(task=task, ts=ts, stream=stream, line=clip(rest))


def unknown_task(app_id: str, task_id: str, cluster: str) -> NotFound:
    return NotFound(f"app '{app_id}' has no task '{task_id}'", field="task_id", cluster=cluster)


async def no_lines() -> AsyncIterator[LogLine]:
    """The lines of a task that has written nothing anyone can read yet."""
    return
    yield  # an empty async generator
