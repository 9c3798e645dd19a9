"""Container, service and Swarm task logs: as plain text, or as timestamped lines.

Without a TTY the engine multiplexes stdout and stderr in frames of an 8-byte
header (stream, 0, 0, 0, big-endian length) and a payload; with a TTY the
stream is raw. Several instances are merged by ``asgard.backends.log_streams``
(plain text) or ``asgard.backends.log_merge`` (lines, which the engine stamps
itself when asked with ``timestamps=1``).
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Final

import aiohttp

from asgard.backends.common import ApiPath
from asgard.backends.contract import LogLines
from asgard.backends.docker.client import DockerClient
from asgard.backends.log_lines import LineSplitter, stamped
from asgard.models.base import utc_now
from asgard.models.log_line import LogStreamName

HEADER = struct.Struct(">BxxxL")
STREAMS: Final[dict[int, LogStreamName]] = {0: "stdout", 1: "stdout", 2: "stderr"}
"""The header's first byte: 0 stdin (written back by a TTY), 1 stdout, 2 stderr."""


async def frames(content: aiohttp.StreamReader) -> AsyncIterator[tuple[LogStreamName, bytes]]:
    while True:
        try:
            header = await content.readexactly(HEADER.size)
        except asyncio.IncompleteReadError:
            return
        kind, size = HEADER.unpack(header)
        try:
            yield STREAMS.get(kind, "stdout"), await content.readexactly(size)
        except asyncio.IncompleteReadError as partial:
            yield STREAMS.get(kind, "stdout"), partial.partial
            return


async def demultiplex(content: aiohttp.StreamReader) -> AsyncIterator[bytes]:
    async for _stream, payload in frames(content):
        yield payload


async def raw(content: aiohttp.StreamReader) -> AsyncIterator[bytes]:
    async for chunk in content.iter_any():
        yield chunk


async def log_stream(
    client: DockerClient, path: ApiPath, *, tail: int | None, follow: bool, tty: bool
) -> AsyncIterator[bytes]:
    """One container's (``containers/<id>/logs``) or service's (``services/<id>/logs``) output."""
    params = {"stdout": "1", "stderr": "1", "follow": "1" if follow else "0"}
    if tail is not None:
        params["tail"] = str(tail)
    async with client.stream("GET", path, what="logs", params=params) as response:
        frames = raw(response.content) if tty else demultiplex(response.content)
        async for chunk in frames:
            yield chunk


async def _raw_frames(content: aiohttp.StreamReader) -> AsyncIterator[tuple[LogStreamName, bytes]]:
    async for chunk in content.iter_any():
        yield "stdout", chunk


def log_params(*, tail: int, since: datetime | None, follow: bool) -> dict[str, str]:
    params = {
        "stdout": "1",
        "stderr": "1",
        "timestamps": "1",
        "follow": "1" if follow else "0",
        "tail": str(tail),
    }
    if since is not None:
        # the engine takes UNIX time; anything before 1970 is everything it has
        params["since"] = f"{max(since.timestamp(), 0.0):.6f}"
    return params


async def log_lines(
    client: DockerClient,
    path: ApiPath,
    *,
    task: str,
    tail: int,
    since: datetime | None,
    follow: bool,
    tty: bool,
) -> LogLines:
    """One container's (``containers/<id>/logs``) or Swarm task's (``tasks/<id>/logs``)
    lines, each with the engine's time and its stream (with a TTY, all is stdout)."""
    params = log_params(tail=tail, since=since, follow=follow)
    splitters: dict[LogStreamName, LineSplitter] = {}
    last = since or utc_now()
    async with client.stream("GET", path, what="logs", params=params) as response:
        chunks = _raw_frames(response.content) if tty else frames(response.content)
        async for stream, chunk in chunks:
            for raw_line in splitters.setdefault(stream, LineSplitter()).feed(chunk):
                line = stamped(task, stream, raw_line, last)
                last = line.ts
                yield line
    for stream, splitter in splitters.items():
        for raw_line in splitter.rest():
            yield stamped(task, stream, raw_line, last)
