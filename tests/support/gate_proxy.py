"""A Docker Engine behind a gate the test opens: an HTTP proxy on loopback in front of a
real dockerd's socket that holds one chosen call until the test lets it through.

Races between two of Asgard's actors (a runner starting a job, a DELETE removing it) are
decided by which call reaches the engine first. Holding one call of the real engine puts
the race exactly where a test wants it, every time, with the real engine answering.
Streams (``/events``, followed logs) are passed on as they come; hijacked connections
(attach, exec) are not proxied.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

__all__ = ["Gate", "GateProxy"]

_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "content-length", "host", "upgrade"}
)


@dataclass
class Gate:
    """Holds the first call whose method and path match, until ``release``."""

    method: str
    path: re.Pattern[str]
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    opened: asyncio.Event = field(default_factory=asyncio.Event)

    def matches(self, request: web.Request) -> bool:
        return (
            not self.arrived.is_set()
            and request.method == self.method
            and bool(self.path.search(request.path))
        )

    def release(self) -> None:
        self.opened.set()


class GateProxy:
    """``url`` is what a Docker cluster entry names; ``hold`` sets a gate."""

    def __init__(self, socket_path: str) -> None:
        self.socket_path = socket_path
        self.url = ""
        self._gates: list[Gate] = []
        self._runner: web.AppRunner | None = None
        self._client: aiohttp.ClientSession | None = None

    def hold(self, method: str, path_pattern: str) -> Gate:
        gate = Gate(method, re.compile(path_pattern))
        self._gates.append(gate)
        return gate

    async def start(self) -> str:
        self._client = aiohttp.ClientSession(
            connector=aiohttp.UnixConnector(path=self.socket_path),
            timeout=aiohttp.ClientTimeout(total=None),
            auto_decompress=False,
        )
        app = web.Application(client_max_size=1024**3)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def close(self) -> None:
        for gate in self._gates:
            gate.release()
        if self._runner is not None:
            await self._runner.cleanup()
        if self._client is not None:
            await self._client.close()

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        for gate in self._gates:
            if gate.matches(request):
                gate.arrived.set()
                await gate.opened.wait()
        assert self._client is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        body = await request.read()
        async with self._client.request(
            request.method,
            f"http://docker{request.raw_path}",
            headers=headers,
            data=body or None,
        ) as upstream:
            response = web.StreamResponse(
                status=upstream.status,
                headers={k: v for k, v in upstream.headers.items() if k.lower() not in _HOP_BY_HOP},
            )
            await response.prepare(request)
            async for chunk in upstream.content.iter_any():
                await response.write(chunk)
            await response.write_eof()
            return response
