"""Pods changing behind Asgard's back at a steady rate, and what following them costs.

The changes go straight to the emulator (as kubelets report a container crashing); an
``/events`` listener hears each change's task event, so the lag of a change is the time
from the API server accepting it to Asgard telling of it, which is after the cache has
it. Beside it, a watch of the pods straight from the API server, in this process: its
lag is the floor (the emulator's own delay in telling of a change). Asgard's CPU time
is read from ``/proc`` before and after: the share of one core that following the
changes cost it (its own work only; the emulator and this process run beside it, on
the same cores).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from bench.load import percentile
from testbed.asgard_process import RunningAsgard
from testbed.synthetic import NAMESPACE

__all__ = ["Churned", "churn_pods", "cpu_seconds", "listening", "watching"]

TICK = os.sysconf("SC_CLK_TCK")
IN_FLIGHT = 32
"""Changes sent and not yet answered at most: a slow moment of the emulator must not
pile up thousands of requests."""


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime (fields 14 and 15)


@dataclass
class Heard:
    """When the listener heard each task's first modification, by task id."""

    at: dict[str, float] = field(default_factory=dict)
    ready: asyncio.Event = field(default_factory=asyncio.Event)


@contextlib.asynccontextmanager
async def listening(session: aiohttp.ClientSession, asgard: RunningAsgard) -> AsyncIterator[Heard]:
    """``GET /events`` held open in the background, once Asgard says it is connected (so
    every scope the account sees has been loaded)."""
    heard = Heard()

    async def read() -> None:
        async with session.get(
            f"{asgard.url}/events", headers=asgard.headers, timeout=aiohttp.ClientTimeout()
        ) as response:
            async for line in response.content:
                if line.startswith(b": connected"):
                    heard.ready.set()
                elif line.startswith(b"data: "):
                    event = json.loads(line[6:])
                    if event.get("kind") == "task" and event.get("change") == "modified":
                        heard.at.setdefault(str(event["id"]), time.monotonic())

    task = asyncio.create_task(read())
    try:
        waiting = asyncio.create_task(heard.ready.wait())
        await asyncio.wait({task, waiting}, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            task.result()  # the stream failed: say why
        yield heard
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, aiohttp.ClientError):
            await task


@contextlib.asynccontextmanager
async def watching(session: aiohttp.ClientSession, url: str) -> AsyncIterator[Heard]:
    """A watch of every pod straight from the API server, from its current version: when
    each pod's first modification arrived."""
    heard = Heard()
    async with session.get(f"{url}/api/v1/pods", params={"limit": "1"}) as response:
        version = str(((await response.json()).get("metadata") or {}).get("resourceVersion"))

    async def read() -> None:
        params = {"watch": "true", "resourceVersion": version}
        async with session.get(
            f"{url}/api/v1/pods", params=params, timeout=aiohttp.ClientTimeout()
        ) as response:
            heard.ready.set()
            async for line in response.content:
                if line.strip():
                    event = json.loads(line)
                    if event.get("type") == "MODIFIED":
                        name = str(event["object"]["metadata"]["name"])
                        heard.at.setdefault(name, time.monotonic())

    task = asyncio.create_task(read())
    try:
        await heard.ready.wait()
        yield heard
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, aiohttp.ClientError):
            await task


def lags(pods: Sequence[str], accepted: dict[str, float], heard: Heard) -> list[float]:
    return [heard.at[p] - accepted[p] for p in pods if p in heard.at and p in accepted]


@dataclass(frozen=True)
class Churned:
    sent: int
    seconds: float
    cpu_s: float
    lags_s: list[float]
    """Of the changes heard, in the order sent."""
    floor_s: list[float]
    """The same, for the direct watch."""

    @property
    def rate(self) -> float:
        return self.sent / self.seconds

    @property
    def core_share(self) -> float:
        return self.cpu_s / self.seconds

    def lag_ms(self, fraction: float, *, floor: bool = False) -> float:
        found = self.floor_s if floor else self.lags_s
        return percentile(found, fraction) * 1000 if found else float("nan")


def crashed(pod: str) -> dict[str, object]:
    """What a kubelet reports of a container that keeps crashing: its task fails."""
    waiting = {"waiting": {"reason": "CrashLoopBackOff", "message": f"{pod} crashed"}}
    status = {"name": "main", "ready": False, "restartCount": 1, "state": waiting}
    return {"status": {"containerStatuses": [status]}}


async def churn_pods(
    url: str,
    asgard: RunningAsgard,
    heard: Heard,
    pods: Sequence[str],
    *,
    rate: float,
    seconds: float,
    settle_s: float = 5.0,
) -> Churned:
    """Change ``rate`` pods a second (each once, in turn) for ``seconds``; then wait up to
    ``settle_s`` for the last ones to be heard."""
    accepted: dict[str, float] = {}
    gate = asyncio.Semaphore(IN_FLIGHT)
    headers = {"Content-Type": "application/merge-patch+json"}

    async with aiohttp.ClientSession() as session, watching(session, url) as direct:

        async def change(pod: str) -> None:
            path = f"{url}/api/v1/namespaces/{NAMESPACE}/pods/{pod}"
            async with gate, session.patch(path, json=crashed(pod), headers=headers) as answer:
                answer.raise_for_status()
                accepted[pod] = time.monotonic()

        wanted = min(len(pods), int(rate * seconds))
        cpu_before, started = cpu_seconds(asgard.pid), time.monotonic()
        sending = []
        for n, pod in enumerate(pods[:wanted]):
            await asyncio.sleep(max(0.0, started + n / rate - time.monotonic()))
            sending.append(asyncio.create_task(change(pod)))
        await asyncio.gather(*sending)
        elapsed = time.monotonic() - started
        deadline = time.monotonic() + settle_s
        while len(heard.at.keys() & accepted.keys()) < len(accepted):
            if time.monotonic() > deadline:
                break
            await asyncio.sleep(0.1)
        cpu = cpu_seconds(asgard.pid) - cpu_before
    sent = pods[:wanted]
    return Churned(
        sent=len(accepted),
        seconds=elapsed,
        cpu_s=cpu,
        lags_s=lags(sent, accepted, heard),
        floor_s=lags(sent, accepted, direct),
    )
