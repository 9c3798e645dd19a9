"""Log lines as a client reads them: text, or one JSON object a line.

Text puts a merged log's lines behind their task (``task-id | line``) and a single
task's as they are. Asgard's own lines (a task that started or ended, lines dropped
for a slow reader) read ``[asgard] ...``, behind ``*`` when they are about no task.
``jsonl`` gives every line as ``{"task", "ts", "stream", "line"}``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator
from datetime import UTC
from typing import Final, Literal

from asgard.models import LogLine

__all__ = ["CONTENT_TYPES", "LogFormat", "render"]

LogFormat = Literal["text", "jsonl"]

CONTENT_TYPES: Final[dict[LogFormat, str]] = {"text": "text/plain", "jsonl": "application/jsonl"}


def as_json(line: LogLine) -> bytes:
    record = {
        "task": line.task,
        "ts": line.ts.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "stream": line.stream,
        "line": line.line,
    }
    return json.dumps(record, ensure_ascii=False).encode() + b"\n"


def as_text(line: LogLine, *, labelled: bool) -> bytes:
    text = f"[asgard] {line.line}" if line.stream == "asgard" else line.line
    if labelled:
        text = f"{line.task or '*'} | {text}"
    return text.encode() + b"\n"


async def render(
    lines: AsyncIterator[LogLine], fmt: LogFormat, *, labelled: bool
) -> AsyncGenerator[bytes, None]:
    try:
        async for line in lines:
            yield as_json(line) if fmt == "jsonl" else as_text(line, labelled=labelled)
    finally:
        closer = getattr(lines, "aclose", None)
        if closer is not None:
            await closer()
