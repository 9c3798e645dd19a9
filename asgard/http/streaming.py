"""Streaming text to a client (logs), and stopping when the client goes away.

aiohttp does not cancel a handler when its client disconnects, and a quiet log
stream gives no write to fail on, so the pump also watches the connection; and it
ends the stream when the process starts shutting down.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from asgard.http.lifecycle import RUNNING

CHECK_CLIENT_EVERY_S = 1.0
MAX_BUFFERED_BYTES = 64 * 1024 * 1024


def client_gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


def shutting_down(request: web.Request) -> bool:
    """The process is stopping: a followed stream ends rather than hold the shutdown up
    for its whole grace period; its client reconnects, to another replica."""
    running = request.app.get(RUNNING)
    return running is not None and running.stopping


async def _close(stream: AsyncIterator[bytes]) -> None:
    closer = getattr(stream, "aclose", None)
    if closer is not None:
        with contextlib.suppress(Exception):
            await closer()


async def collect(stream: AsyncIterator[bytes], limit: int = MAX_BUFFERED_BYTES) -> bytes:
    """All of a finite stream (``follow=false``), bounded so one answer cannot eat the memory."""
    chunks, size = [], 0
    try:
        async for chunk in stream:
            chunks.append(chunk)
            size += len(chunk)
            if size >= limit:
                break
    finally:
        await _close(stream)
    return b"".join(chunks)


async def pump(
    request: web.Request, stream: AsyncIterator[bytes], content_type: str
) -> web.StreamResponse:
    """Send chunks as they come until the stream ends, the client leaves, or the process
    begins to shut down (the answer then ends cleanly, for the client to reconnect).

    The client leaving shows as a closed transport (checked every second, since a quiet
    stream gives no write to fail on), a failed write, or this handler being cancelled;
    in every case the upstream stream is closed, so the cluster connection is let go."""
    response = web.StreamResponse(
        headers={"Content-Type": content_type, "Cache-Control": "no-cache"}
    )
    await response.prepare(request)
    iterator = aiter(stream)
    next_chunk: asyncio.Future[bytes] | None = None
    try:
        while not shutting_down(request):
            next_chunk = asyncio.ensure_future(anext(iterator))
            while not next_chunk.done():
                await asyncio.wait([next_chunk], timeout=CHECK_CLIENT_EVERY_S)
                if client_gone(request):
                    return response
                if shutting_down(request):
                    break
            if not next_chunk.done():
                break
            try:
                chunk = next_chunk.result()
            except StopAsyncIteration:
                break
            await response.write(chunk)
        await response.write_eof()
    except ConnectionResetError:
        pass
    finally:
        if next_chunk is not None and not next_chunk.done():
            next_chunk.cancel()
        await _close(stream)
    return response
