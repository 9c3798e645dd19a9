"""Container and service logs as plain text.

Without a TTY the engine multiplexes stdout and stderr in frames of an 8-byte
header (stream, 0, 0, 0, big-endian length) and a payload; with a TTY the
stream is raw. Several instances are merged by ``asgard.backends.log_streams``.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator

import aiohttp

from asgard.backends.docker.client import DockerClient

HEADER = struct.Struct(">BxxxL")


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
