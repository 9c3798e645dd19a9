"""Streaming what comes from outside to a file, with a limit: never held in memory.

Chunks are gathered up to ``BATCH`` bytes and written from a thread, so a slow disk
delays that stream and nothing else, and the stream is refused (``PayloadTooLarge``,
naming the limit) as soon as it passes the limit, without reading the rest.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Final

from asgard.errors import PayloadTooLarge

__all__ = ["spool"]

BATCH: Final = 1024 * 1024


def _append(path: Path, data: bytes) -> None:
    with path.open("ab") as handle:
        handle.write(data)


async def spool(chunks: AsyncIterator[bytes], path: Path, limit: int, what: str) -> int:
    """Write ``chunks`` to ``path`` (appending); the bytes written. ``PayloadTooLarge``
    once they pass ``limit``: ``what`` names what was too large in its message."""
    size = 0
    pending: list[bytes] = []
    waiting = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"{what} is over the limit of {limit} bytes")
        pending.append(chunk)
        waiting += len(chunk)
        if waiting >= BATCH:
            await asyncio.to_thread(_append, path, b"".join(pending))
            pending, waiting = [], 0
    if pending:
        await asyncio.to_thread(_append, path, b"".join(pending))
    return size
