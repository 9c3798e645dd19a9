"""Streaming text to a client (logs, events), and stopping when the client goes away.

aiohttp does not cancel a handler when its client disconnects, and a quiet log
stream gives no write to fail on, so the pump also watches the connection; it ends
the stream when the process starts shutting down, and when the access the request was
made with is taken away (``asgard.services.open_streams``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from aiohttp import web

from asgard.http.lifecycle import RUNNING
from asgard.http.state import CREDENTIALS, PRINCIPAL, services
from asgard.services.open_streams import Grant, Held

CHECK_CLIENT_EVERY_S = 1.0
MAX_BUFFERED_BYTES = 64 * 1024 * 1024
FIRST = asyncio.FIRST_COMPLETED


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


Farewell = Callable[[str], bytes]
"""The last chunk of a stream whose access was taken away, given the reason (SSE: an
event saying so); without one, the body just ends."""


def _grant(request: web.Request) -> Grant | None:
    """What the request was opened with, for the open streams to hold it by."""
    credentials, who = request.get(CREDENTIALS), request.get(PRINCIPAL)
    if credentials is None or who is None or who.account is None:
        return None
    return Grant(credentials.user.id, credentials.key_id, credentials.session, who.account.id)


@contextlib.contextmanager
def _held(request: web.Request) -> Iterator[Held]:
    grant = _grant(request)
    if grant is None:  # not authenticated as a user: nothing can be taken away
        yield Held(Grant(0, None, None, 0))
        return
    with services(request).streams.hold(grant) as held:
        yield held


async def _wait(
    request: web.Request, chunk: asyncio.Future[bytes], stop: asyncio.Future[Any]
) -> bool:
    """Wait for ``chunk``; False when the client left, the process is stopping or the
    access ended first."""
    while not chunk.done():
        await asyncio.wait([chunk, stop], timeout=CHECK_CLIENT_EVERY_S, return_when=FIRST)
        if client_gone(request) or shutting_down(request) or stop.done():
            return False
    return True


async def pump(
    request: web.Request,
    stream: AsyncIterator[bytes],
    content_type: str,
    farewell: Farewell | None = None,
) -> web.StreamResponse:
    """Send chunks as they come until the stream ends, the client leaves, the process
    begins to shut down, or the access the request was made with is taken away (the
    answer then ends cleanly: ``farewell`` says why, and the client may reconnect).

    The client leaving shows as a closed transport (checked every second, since a quiet
    stream gives no write to fail on), a failed write, or this handler being cancelled;
    in every case the upstream stream is closed, so the cluster connection is let go.
    While the open streams are being checked again after a change to who may do what,
    nothing is written (``Held.vetted``)."""
    response = web.StreamResponse(
        headers={"Content-Type": content_type, "Cache-Control": "no-store"}
    )
    await response.prepare(request)
    iterator = aiter(stream)
    next_chunk: asyncio.Future[bytes] | None = None
    with _held(request) as held:
        stop = asyncio.ensure_future(held.ended.wait())
        try:
            while not shutting_down(request):
                next_chunk = asyncio.ensure_future(anext(iterator))
                if not await _wait(request, next_chunk, stop):
                    if client_gone(request):
                        return response
                    break
                try:
                    chunk = next_chunk.result()
                except StopAsyncIteration:
                    break
                await held.vetted.wait()
                if held.ended.is_set():
                    break
                await response.write(chunk)
            if held.ended.is_set() and farewell is not None:
                await response.write(farewell(held.reason))
            await response.write_eof()
        except ConnectionResetError:
            pass
        finally:
            stop.cancel()
            if next_chunk is not None and not next_chunk.done():
                next_chunk.cancel()
            await _close(stream)
    return response
