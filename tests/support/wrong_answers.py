"""A cluster endpoint that answers every path wrongly, as real ones fail.

One small aiohttp server on loopback per misbehaviour, answering whatever it is asked
(a Docker Engine's, a Kubernetes API server's, a Mesos master's, Marathon's or
Chronos' paths alike): a proxy's 404 for a wrong URL, a login wall's HTML, JSON cut
short by a load balancer, JSON of another shape, a body of 50 MB, headers and then
nothing, a reset connection, or a busy server's 429 with ``Retry-After`` before the
real answer of an ``upstream`` it forwards to.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from typing import Final, Literal

import aiohttp
from aiohttp import web

__all__ = ["MISBEHAVIOURS", "Misbehaviour", "WrongAnswers"]

Misbehaviour = Literal["404", "html", "cut", "array", "other", "huge", "stall", "reset", "busy"]
MISBEHAVIOURS: Final[tuple[Misbehaviour, ...]] = (
    "404",
    "html",
    "cut",
    "array",
    "other",
    "huge",
    "stall",
    "reset",
)
"""Every way of answering that leaves nothing usable (``busy`` ends in an answer)."""

HUGE_BYTES: Final = 50 * 2**20
CHUNK: Final = b" " * 2**20


class WrongAnswers:
    """``async with WrongAnswers("html") as server:`` then point a cluster at ``server.url``."""

    def __init__(self, how: Misbehaviour, upstream: str | None = None) -> None:
        self.how = how
        self.upstream = upstream
        self.asked: list[str] = []
        """Every path asked, in order: what the cluster's client tried."""
        self._busy_once: set[str] = set()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._upstream_base = ""
        self.url = ""

    async def __aenter__(self) -> WrongAnswers:
        app = web.Application()
        app.router.add_route("*", "/{path:.*}", self._answer)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, shutdown_timeout=0.1)
        await site.start()
        server = site._server
        assert isinstance(server, asyncio.Server)
        port = server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self._session, self._upstream_base = self._upstream_session()
        return self

    def _upstream_session(self) -> tuple[aiohttp.ClientSession, str]:
        """A session to the upstream, and the base its paths go after (a Docker Engine
        listens on a unix socket)."""
        if self.upstream is not None and self.upstream.startswith("unix://"):
            connector = aiohttp.UnixConnector(path=self.upstream.removeprefix("unix://"))
            return aiohttp.ClientSession(connector=connector), "http://engine"
        return aiohttp.ClientSession(), self.upstream or ""

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        self.asked.append(request.path)
        how = self.how
        if how == "404":
            return web.Response(status=404, text="404 page not found")
        if how == "html":
            page = "<!doctype html><html><body><form>Sign in</form></body></html>"
            return web.Response(text=page, content_type="text/html")
        if how == "cut":
            return web.Response(
                body=b'{"items": [{"metadata": {"na', content_type="application/json"
            )
        if how == "array":
            return web.json_response([])
        if how == "other":
            return web.json_response({"x": 1})
        if how == "huge":
            return await self._huge(request)
        if how == "stall":
            return await self._stall(request)
        if how == "reset":
            return self._reset(request)
        return await self._busy(request)

    async def _huge(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        await response.write(b'{"items": [')
        try:
            for _ in range(HUGE_BYTES // len(CHUNK)):
                await response.write(CHUNK)
            await response.write(b"]}")
        except (ConnectionError, RuntimeError):
            pass  # the client stopped reading at its cap, as it should
        return response

    async def _stall(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        await response.write(b"{")
        await asyncio.Event().wait()  # until the client gives up and the server closes
        return response

    def _reset(self, request: web.Request) -> web.StreamResponse:
        transport = request.transport
        assert transport is not None
        sock = transport.get_extra_info("socket")
        if sock is not None:  # a linger of 0: the close is a TCP reset, not an orderly end
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
        return web.Response(status=500)

    async def _busy(self, request: web.Request) -> web.StreamResponse:
        """429 with ``Retry-After: 1`` the first time a path is asked, then the upstream's
        own answer."""
        if request.path not in self._busy_once:
            self._busy_once.add(request.path)
            return web.Response(status=429, headers={"Retry-After": "1"}, text="too many requests")
        assert self.upstream is not None
        assert self._session is not None
        async with self._session.request(
            request.method,
            f"{self._upstream_base}{request.raw_path}",
            data=await request.read(),
            headers={k: v for k, v in request.headers.items() if k.lower() != "host"},
            allow_redirects=False,
        ) as upstream:
            headers = {
                k: v
                for k, v in upstream.headers.items()
                if k.lower() not in ("content-length", "transfer-encoding", "content-encoding")
            }
            response = web.StreamResponse(status=upstream.status, headers=headers)
            await response.prepare(request)  # streamed: a Docker event feed never ends
            try:
                async for chunk in upstream.content.iter_any():
                    await response.write(chunk)
            except (ConnectionError, RuntimeError):
                pass  # the client went away
            return response
