"""The chunks of an upload (a request's body, or one part of a multipart body), for
``asgard.spooling.spool``: the only bodies Asgard reads past ``max_body_bytes`` go to a
file this way, never into memory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Final

from aiohttp import BodyPartReader, web

__all__ = ["part_chunks", "request_chunks"]

CHUNK: Final = 64 * 1024


async def part_chunks(part: BodyPartReader) -> AsyncIterator[bytes]:
    while chunk := await part.read_chunk(CHUNK):
        yield chunk


async def request_chunks(request: web.Request) -> AsyncIterator[bytes]:
    async for chunk in request.content.iter_chunked(CHUNK):
        yield chunk
