"""Serving the app until SIGTERM or SIGINT, and stopping without dropping what is in flight.

aiohttp's own ``run_app`` stops by marking every connection closing and then waiting
for the handlers, but a connection marked so reads nothing more (``data_received``
returns at once): a request whose body was still arriving (a job's input being
uploaded) waits for the rest of it until the grace period cuts it. So Asgard stops in
its own order:

1. the listening socket closes (no new connection);
2. ``stopping``: ``/ready`` answers 503, leases are given up, streams that could run
   for days (``/events``, followed logs) end with a hint to reconnect elsewhere;
3. the requests in flight, counted by ``count_in_flight``, finish, for at most
   ``grace_s``, their connections still reading;
4. aiohttp's cleanup: idle connections closed, what is left cut, every subsystem
   stopped in reverse order.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import time
from collections.abc import Awaitable, Callable

import structlog
from aiohttp import web

from asgard.http.lifecycle import RUNNING, stopping
from asgard.settings import ConfigError

__all__ = ["IN_FLIGHT", "InFlight", "count_in_flight", "serve_until_stopped"]

log = structlog.get_logger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
LAST_CUT_S = 1.0
"""What aiohttp's own shutdown still waits once Asgard has waited out the grace."""


class InFlight:
    """How many requests are being handled now, and a way to wait until none is."""

    def __init__(self) -> None:
        self.count = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def began(self) -> None:
        self.count += 1
        self._idle.clear()

    def ended(self) -> None:
        self.count -= 1
        if self.count == 0:
            self._idle.set()

    async def idle(self, timeout_s: float) -> bool:
        """True once no request is in flight; False when ``timeout_s`` passed first."""
        try:
            async with asyncio.timeout(timeout_s):
                await self._idle.wait()
        except TimeoutError:
            return False
        return True


IN_FLIGHT = web.AppKey("in_flight", InFlight)


@web.middleware
async def count_in_flight(request: web.Request, handler: Handler) -> web.StreamResponse:
    in_flight = request.app[IN_FLIGHT]
    in_flight.began()
    try:
        return await handler(request)
    finally:
        in_flight.ended()


def listening_socket(host: str, port: int) -> socket.socket:
    """The socket Asgard will serve on, bound before anything starts: a port another
    process holds is a one-line error at once, not a start that connects to every cluster,
    takes its leases and then fails."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family)
    except OSError as exc:
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


async def serve_until_stopped(app: web.Application, *, host: str, port: int) -> None:
    """Serve until SIGTERM or SIGINT, then stop as the module says."""
    grace_s = app[RUNNING].settings.shutdown_grace_s
    listening = listening_socket(host, port)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=LAST_CUT_S)
    try:
        await runner.setup()
    except BaseException:
        listening.close()
        raise
    try:
        site = web.SockSite(runner, listening)
        await site.start()
        log.info("asgard listening", address=site.name)
        told = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, told.set)
        await told.wait()
        began = time.monotonic()
        await site.stop()
        await stopping(app)
        in_flight = app[IN_FLIGHT]
        if not await in_flight.idle(grace_s):
            log.warning("requests still in flight after the grace period", count=in_flight.count)
        log.info("asgard stopped serving", waited_s=round(time.monotonic() - began, 3))
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(Exception):
                asyncio.get_running_loop().remove_signal_handler(signum)
        await runner.cleanup()
