"""Log files as streams: the last lines of one, then what is added to it while followed.

Each instance and each job writes its output to one file, so following is watching the
file grow (polled: a file gives no notice of growth that works everywhere). A followed
stream ends once its writer is gone for good (``finished``) and everything it wrote has
been read, or when the file is removed with what it logged (a deleted app or job).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from asgard.backends.log_lines import LineSplitter, text_of
from asgard.models import LogLine
from asgard.models.base import utc_now
from asgard.models.log_line import clip

__all__ = ["follow_file", "last_lines", "lines_of"]

POLL_S = 0.25
CHUNK = 64 * 1024


def last_lines(path: Path, count: int | None) -> tuple[bytes, int]:
    """The last ``count`` lines (every line for None), and the offset the file ends at."""
    try:
        with path.open("rb") as handle:
            end = handle.seek(0, os.SEEK_END)
            if count is None:
                handle.seek(0)
                return handle.read(), end
            if count <= 0:
                return b"", end
            start, data = end, b""
            while start > 0 and data.count(b"\n") <= count:
                start = max(0, start - CHUNK)
                handle.seek(start)
                data = handle.read(end - start)
    except FileNotFoundError:
        return b"", 0
    lines = data.splitlines(keepends=True)
    return b"".join(lines[-count:]), end


def _read_from(path: Path, offset: int) -> bytes | None:
    """What was added after ``offset``; None when the file is gone."""
    try:
        with path.open("rb") as handle:
            handle.seek(offset)
            return handle.read(CHUNK)
    except FileNotFoundError:
        return None


async def follow_file(
    path: Path, *, tail: int | None, follow: bool, finished: Callable[[], bool]
) -> AsyncIterator[bytes]:
    head, offset = await asyncio.to_thread(last_lines, path, tail)
    if head:
        yield head
    while follow:
        done = finished()  # asked before reading, so nothing written before the end is lost
        chunk = await asyncio.to_thread(_read_from, path, offset)
        if chunk is None:
            return
        if chunk:
            offset += len(chunk)
            yield chunk
            continue
        if done:
            return
        await asyncio.sleep(POLL_S)


async def lines_of(task: str, chunks: AsyncIterator[bytes]) -> AsyncIterator[LogLine]:
    """A task's file as lines, each stamped when it was read (the file has no times), in
    the ``output`` stream (the process's stdout and stderr go to the one file)."""
    splitter = LineSplitter()
    try:
        async for chunk in chunks:
            now = utc_now()
            for raw in splitter.feed(chunk):
                yield LogLine(task=task, ts=now, stream="output", line=clip(text_of(raw)))
        for raw in splitter.rest():
            yield LogLine(task=task, ts=utc_now(), stream="output", line=clip(text_of(raw)))
    finally:
        await chunks.aclose()  # type: ignore[attr-defined]
