"""Log output of several instances as one stream, for every kind of cluster.

Instances are read at once and their lines merged as they arrive, each line
prefixed with its instance when there is more than one; a stream that fails
ends alone, the others go on. This is the text of ``/logs`` without ``tasks=all``
(the dashboard's); lines in time order are ``asgard.backends.log_merge``'s.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from asgard.tasks import cancel_and_wait

QUEUE_LIMIT = 256


async def prefixed(stream: AsyncIterator[bytes], prefix: bytes) -> AsyncIterator[bytes]:
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
            async for line in prefixed(stream, f"[{name}] ".encode()):
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
        await cancel_and_wait(*tasks)
