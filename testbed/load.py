"""Many clients at once against a running Asgard: readers going round the read routes
without pause and listeners on ``/events``, for a bounded time.

What it counts is what a user would notice: an answer that was not 200, an error entry
naming a cluster that is not the hung one, a connection dropped, a stream that ended,
and the server's resident memory before, during and after. The test in ``make test``
runs it for seconds; ``bench`` for a minute.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import kmock

from asgard.tasks import cancel_and_wait
from testbed.asgard_process import running_asgard
from testbed.kube import Emulator
from testbed.silent import silent_server
from testbed.synthetic import Shape, churn, populate

SHAPE = Shape(nodes=20, deployments=20, pods=200)
READ_ROUTES = ("/agents", "/apps", "/clusters", "/jobs", "/users/me", "/scheduled-jobs")


@dataclass
class Load:
    answered: int = 0
    problems: list[str] = field(default_factory=list)
    events_read: int = 0
    streams_ended: int = 0
    rss_mib: list[float] = field(default_factory=list)

    def note(self, problem: str) -> None:
        if len(self.problems) < 50:  # enough to see what went wrong
            self.problems.append(problem)


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


async def _reader(
    session: aiohttp.ClientSession, url: str, headers: dict[str, str], until: float, hung: str,
    load: Load, offset: int,
) -> None:  # fmt: skip
    n = offset
    while time.monotonic() < until:
        route = READ_ROUTES[n % len(READ_ROUTES)]
        n += 1
        try:
            async with session.get(f"{url}{route}", headers=headers) as response:
                body = await response.json()
        except (aiohttp.ClientError, TimeoutError) as exc:
            load.note(f"{route}: connection failed: {exc!r}")
            continue
        load.answered += 1
        if response.status != 200:
            load.note(f"{route}: {response.status} {str(body)[:200]}")
            continue
        for error in body.get("errors") or []:
            if error.get("cluster") != hung:
                load.note(f"{route}: an error for a healthy cluster: {error}")


async def _listener(
    session: aiohttp.ClientSession, url: str, headers: dict[str, str], until: float, load: Load
) -> None:
    try:
        async with session.get(f"{url}/events", headers=headers) as response:
            if response.status != 200:
                load.note(f"/events: {response.status}")
                return
            while time.monotonic() < until:
                try:
                    line = await asyncio.wait_for(response.content.readline(), 1.0)
                except TimeoutError:
                    continue
                if not line:
                    load.streams_ended += 1
                    load.note("/events: the stream ended under load")
                    return
                if line.startswith(b"data:"):
                    load.events_read += 1
    except aiohttp.ClientError as exc:
        load.streams_ended += 1
        load.note(f"/events: connection failed: {exc!r}")


async def _sample(pid: int, until: float, load: Load) -> None:
    while time.monotonic() < until:
        load.rss_mib.append(rss_mib(pid))
        await asyncio.sleep(1.0)


async def hammer(
    url: str, key: str, pid: int, *, seconds: float, clients: int = 200, listeners: int = 20,
    hung: str = "hung",
) -> Load:  # fmt: skip
    """``clients`` readers and ``listeners`` on ``/events`` for ``seconds``."""
    load = Load()
    headers = {"Authorization": f"Token {key}"}
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=None, sock_read=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        until = time.monotonic() + seconds
        streams = [
            asyncio.create_task(_listener(session, url, headers, until, load))
            for _ in range(listeners)
        ]
        await asyncio.sleep(0.5)  # the listeners are in before the readers come
        await asyncio.gather(
            _sample(pid, until, load),
            *(_reader(session, url, headers, until, hung, load, n) for n in range(clients)),
        )
        await asyncio.gather(*streams)
    return load


@contextlib.asynccontextmanager
async def emulated_cluster() -> AsyncIterator[str]:
    async with Emulator(forget_requests=True) as emulator:
        populate(emulator, SHAPE)
        async with kmock.Server(emulator) as server:
            yield str(server.url).rstrip("/")


async def settled(url: str, key: str) -> None:
    """Every route answered once and the healthy cluster's cache current."""
    headers = {"Authorization": f"Token {key}"}
    async with aiohttp.ClientSession() as session:
        for _ in range(100):
            async with session.get(f"{url}/clusters", headers=headers) as response:
                clusters = (await response.json())["clusters"]
            if any(c["name"] == "k8s" and c["cache"] == "current" for c in clusters):
                return
            await asyncio.sleep(0.2)
    raise AssertionError("the healthy cluster's cache never became current")


@dataclass(frozen=True)
class Report:
    load: Load
    before_mib: float
    after_mib: float

    @property
    def peak_mib(self) -> float:
        return max(self.load.rss_mib, default=self.before_mib)


async def run_against_a_fleet(folder: Path, seconds: float) -> Report:
    """A real ``asgard serve`` over a healthy emulated cluster (a Deployment scaled every
    second behind its back) and a hung one; warmed, then ``hammer``ed for ``seconds``."""
    async with emulated_cluster() as url, silent_server() as hung_url:
        clusters: list[dict[str, object]] = [
            {"name": "k8s", "kind": "kubernetes", "url": url, "token": "t"},
            {"name": "hung", "kind": "kubernetes", "url": hung_url, "token": "t", "timeout_s": 1},
        ]
        async with running_asgard(folder, clusters) as asgard:
            await settled(asgard.url, asgard.key)
            changing = asyncio.create_task(churn(url))
            try:
                # Warmed with the load's own shape (every client and listener at once,
                # the cluster changing), so that what the first burst of 200 connections
                # and the first changes cost once (buffers, the allocator's arenas, the
                # event buffer, the items' JSON) is in the baseline, and growth after it
                # means a leak.
                await hammer(asgard.url, asgard.key, asgard.pid, seconds=5)
                before = rss_mib(asgard.pid)
                load = await hammer(asgard.url, asgard.key, asgard.pid, seconds=seconds)
            finally:
                await cancel_and_wait(changing)
            await asyncio.sleep(3)
            return Report(load, before, rss_mib(asgard.pid))
