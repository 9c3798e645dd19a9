"""Log output of several instances as one stream, for every kind of cluster.

Instances are read at once and their lines merged as they arrive, each line
prefixed with its instance when there is more than one; a stream that fails
ends alone, the others go on. This is the text of ``/logs`` without ``tasks=all``
(the dashboard's); lines in time order are ``asgard.backends.log_merge``'s.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import Final

from asgard.tasks import cancel_and_wait

QUEUE_LIMIT = 256
ENDED_POLL_S: Final = 1.0
"""How often a followed log that its cluster never ends asks whether what it follows has."""
LAST_LINES_S: Final = 2.0
"""How long such a log waits, once what it follows has ended, for its last lines."""


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


async def until_ended(
    stream: AsyncIterator[bytes],
    ended: Callable[[], Awaitable[bool]],
    *,
    poll_s: float = ENDED_POLL_S,
    grace_s: float = LAST_LINES_S,
) -> AsyncIterator[bytes]:
    """A followed log its cluster keeps open after what it follows has ended (a Swarm
    service's log stays open when its job is over), ended by Asgard: whenever the log has
    been quiet for ``poll_s``, ``ended()`` is asked, and once it says so the log ends
    after ``grace_s`` more, for its last lines."""
    loop = asyncio.get_running_loop()
    since: float | None = None
    pending: asyncio.Task[bytes] | None = None
    try:
        while since is None or loop.time() - since < grace_s:
            if pending is None:
                pending = asyncio.ensure_future(anext(stream))
            done, _ = await asyncio.wait({pending}, timeout=poll_s)
            if not done:
                if since is None and await ended():
                    since = loop.time()
                continue
            try:
                chunk = pending.result()
            except StopAsyncIteration:
                return
            pending = None
            yield chunk
    finally:
        await cancel_and_wait(pending)
        if isinstance(stream, AsyncGenerator):
            with contextlib.suppress(RuntimeError):  # still running: cancelled above
                await stream.aclose()
