"""Container and service logs as plain text.

Without a TTY the engine multiplexes stdout and stderr in frames of an 8-byte
header (stream, 0, 0, 0, big-endian length) and a payload; with a TTY the
stream is raw. Several instances are read at once and merged as their lines
arrive, each prefixed with its instance when there is more than one.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections.abc import AsyncIterator

import aiohttp

from asgard.backends.docker.client import DockerClient

HEADER = struct.Struct(">BxxxL")
QUEUE_LIMIT = 256


async def demultiplex(content: aiohttp.StreamReader) -> AsyncIterator[bytes]:
    while True:
        try:
            header = await content.readexactly(HEADER.size)
        except asyncio.IncompleteReadError:
            return
        _stream, size = HEADER.unpack(header)
        try:
            yield await content.readexactly(size)
        except asyncio.IncompleteReadError as partial:
            yield partial.partial
            return


async def raw(content: aiohttp.StreamReader) -> AsyncIterator[bytes]:
    async for chunk in content.iter_any():
        yield chunk


async def log_stream(
    client: DockerClient, path: str, *, tail: int | None, follow: bool, tty: bool
) -> AsyncIterator[bytes]:
    """One container's (``containers/<id>/logs``) or service's (``services/<id>/logs``) output."""
    params = {"stdout": "1", "stderr": "1", "follow": "1" if follow else "0"}
    if tail is not None:
        params["tail"] = str(tail)
    async with client.stream("GET", path, what="logs", params=params) as response:
        frames = raw(response.content) if tty else demultiplex(response.content)
        async for chunk in frames:
            yield chunk


async def _prefixed(stream: AsyncIterator[bytes], prefix: bytes) -> AsyncIterator[bytes]:
    pending = b""
    async for chunk in stream:
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            yield prefix + line + b"\n"
    if pending:
        yield prefix + pending + b"\n"


async def merge(streams: dict[str, AsyncIterator[bytes]]) -> AsyncIterator[bytes]:
    """All streams at once, as chunks arrive; prefixed with ``[name]`` when more than one."""
    if len(streams) == 1:
        async for chunk in next(iter(streams.values())):
            yield chunk
        return
    queue: asyncio.Queue[bytes | None] = asyncio.Queue(QUEUE_LIMIT)

    async def pump(name: str, stream: AsyncIterator[bytes]) -> None:
        try:
            async for line in _prefixed(stream, f"[{name}] ".encode()):
                await queue.put(line)
        finally:
            await queue.put(None)

    tasks = [asyncio.create_task(pump(n, s)) for n, s in streams.items()]
    try:
        remaining = len(tasks)
        while remaining:
            item = await queue.get()
            if item is None:
                remaining -= 1
            else:
                yield item
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task
