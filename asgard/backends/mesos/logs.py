"""Task logs, from the agents' sandboxes (``/files/read``): each task's ``stdout`` and ``stderr``.

A task's sandbox is its executor's ``directory`` in the agent's ``/state``. Its
``stdout`` and ``stderr`` are read with ``offset`` and ``length``: ``offset=-1``
tells the file's size, so the tail is read without reading the whole file.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any, Final

from asgard.backends.contract import LogLines
from asgard.backends.log_lines import LineSplitter, text_of
from asgard.backends.mesos.masters import Agent
from asgard.errors import NotFound
from asgard.models import LogLine
from asgard.models.base import utc_now
from asgard.models.log_line import LogStreamName, clip

TAIL_BYTES = 256 * 1024
FOLLOW_EVERY_S = 1.0
STREAMS: Final[tuple[LogStreamName, ...]] = ("stdout", "stderr")


def executor_directories(state: dict[str, Any]) -> dict[str, str]:
    """Executor id -> sandbox directory, for the executors the agent knows."""
    found = {}
    for framework in [*(state.get("frameworks") or []), *(state.get("completed_frameworks") or [])]:
        for executor in [
            *(framework.get("executors") or []),
            *(framework.get("completed_executors") or []),
        ]:
            if executor.get("id") and executor.get("directory"):
                found[str(executor["id"])] = str(executor["directory"])
    return found


async def file_size(agent: Agent, path: str) -> int:
    return int((await agent.read_file(path, -1, 0)).get("offset") or 0)


async def tail(agent: Agent, directory: str, lines: int, name: str = "stdout") -> tuple[bytes, int]:
    """The last ``lines`` lines of the sandbox's file ``name``, and the offset after them."""
    path = f"{directory}/{name}"
    size = await file_size(agent, path)
    start = max(0, size - TAIL_BYTES)
    data = str((await agent.read_file(path, start, size - start)).get("data") or "").encode()
    kept = data.splitlines(keepends=True)[-lines:] if lines else []
    return b"".join(kept), size


async def follow(agent: Agent, directory: str, lines: int, forever: bool) -> AsyncIterator[bytes]:
    chunk, offset = await tail(agent, directory, lines)
    if chunk:
        yield chunk
    path = f"{directory}/stdout"
    while forever:
        await asyncio.sleep(FOLLOW_EVERY_S)
        found = await agent.read_file(path, offset, TAIL_BYTES)
        data = str(found.get("data") or "")
        if data:
            offset += len(data.encode())
            yield data.encode()


async def sandbox_lines(
    agent: Agent, directory: str, task: str, *, tail_lines: int, follow: bool
) -> LogLines:
    """The task's stdout and stderr as lines. The files carry no times: each line is
    stamped when Asgard read it, so a tail is the last lines of stdout, then those of
    stderr, and following, each poll's lines of stdout, then of stderr."""
    offsets: dict[LogStreamName, int] = {}
    for name in STREAMS:
        try:
            chunk, offsets[name] = await tail(agent, directory, tail_lines, name)
        except NotFound:  # not written yet
            continue
        stamp = utc_now()
        for raw in chunk.splitlines():
            yield LogLine(task=task, ts=stamp, stream=name, line=clip(text_of(raw)))
    splitters = {name: LineSplitter() for name in offsets}
    behind = False
    while follow:
        if not behind:  # a file that grew by more than one read is read on at once
            await asyncio.sleep(FOLLOW_EVERY_S)
        behind = False
        for name, offset in offsets.items():
            found = await agent.read_file(f"{directory}/{name}", offset, TAIL_BYTES)
            data = str(found.get("data") or "").encode()
            offsets[name] = offset + len(data)
            behind = behind or len(data) >= TAIL_BYTES
            stamp = utc_now()
            for raw in splitters[name].feed(data):
                yield LogLine(task=task, ts=stamp, stream=name, line=clip(text_of(raw)))
