"""CPU and memory use of containers, computed the way the Docker Engine API documents it.

    cpu_delta    = cpu_stats.cpu_usage.total_usage - precpu_stats.cpu_usage.total_usage
    system_delta = cpu_stats.system_cpu_usage - precpu_stats.system_cpu_usage
    CPU %        = cpu_delta / system_delta * online_cpus * 100
    used memory  = memory_stats.usage - memory_stats.stats.cache  (inactive_file on cgroup v2)
    memory %     = used memory / memory_stats.limit * 100

A plain ``stream=false`` sample makes the engine wait for a second collection
cycle, 1 to 2 s per container (moby/moby#40437). ``one-shot=true`` (API 1.41)
answers at once but without ``precpu_stats``, so Asgard takes two one-shot
samples itself, ``INTERVAL_S`` apart, for every instance concurrently.

Podman's Docker-compatible service answers the same document with other meanings
(``asgard.backends.docker.podman``): its ``system_cpu_usage`` is the CPU time of every
cgroup (busy time, not the host's time with its idle part), so the formula above would
make a container on a quiet host look busy; there CPU % is ``cpu_delta`` over the time
between the two samples' ``read`` stamps. And for a container that is not running it
answers 200 with no body at all, where a Docker Engine sends zeros. Every sample is read
into ``StatsSample``: an answer of any other shape is the cluster's ``UnusableAnswer``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict, ValidationError

from asgard.backends.answers import unusable
from asgard.backends.common import parse_time
from asgard.backends.docker.client import DockerClient
from asgard.backends.docker.converters import MiB
from asgard.backends.docker.podman import engine_id, runs_podman
from asgard.backends.docker.transport import ENGINE
from asgard.errors import NotFound
from asgard.models import AppStats, Resources
from asgard.models.base import pct, round_up_pct, utc_now

INTERVAL_S = 0.5
ONE_SHOT_API = (1, 41)
METER_AT_ONCE = 16
"""Containers sampled at once when metering a whole host, so hundreds of them do not open
hundreds of connections every interval."""


class _Part(BaseModel):
    """A part of the stats document: what Asgard reads of it, the rest ignored. Engines
    send ``null`` for what they do not know; it reads as nothing."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class CpuUsage(_Part):
    total_usage: int | None = None
    percpu_usage: list[int] | None = None


class Throttling(_Part):
    periods: int | None = None
    throttled_periods: int | None = None


class CpuStats(_Part):
    cpu_usage: CpuUsage | None = None
    system_cpu_usage: int | None = None
    online_cpus: int | None = None
    throttling_data: Throttling | None = None

    @property
    def total(self) -> int:
        return (self.cpu_usage.total_usage if self.cpu_usage else None) or 0

    @property
    def cpus(self) -> int:
        percpu = (self.cpu_usage.percpu_usage if self.cpu_usage else None) or []
        return self.online_cpus or len(percpu) or 1

    @property
    def throttling(self) -> Throttling:
        return self.throttling_data or Throttling()


class MemoryStats(_Part):
    usage: int | None = None
    limit: int | None = None
    stats: dict[str, int | None] | None = None


class StatsSample(_Part):
    """One sample of one container, as ``/containers/{id}/stats`` answers it."""

    read: str | None = None
    cpu_stats: CpuStats | None = None
    precpu_stats: CpuStats | None = None
    memory_stats: MemoryStats | None = None

    @property
    def cpu(self) -> CpuStats:
        return self.cpu_stats or CpuStats()

    @property
    def taken_at(self) -> datetime | None:
        return parse_time(self.read)


@dataclass(frozen=True)
class Usage:
    cpu_pct: float
    mem_used: float
    mem_limit: float
    throttled_periods: int
    periods: int


def read_sample(answer: object, *, cluster: str, container_id: str) -> StatsSample | None:
    """A stats answer, checked: None for no answer (Podman's, for a container that is not
    running), the cluster's ``UnusableAnswer`` for one of another shape."""
    if answer is None:
        return None
    what = f"stats of {container_id}"
    if not isinstance(answer, dict):
        raise unusable(cluster, what, ENGINE, f"a stats document of {type(answer).__name__}")
    try:
        return StatsSample.model_validate(answer)
    except ValidationError as exc:
        where = ".".join(str(p) for p in exc.errors()[0]["loc"])
        raise unusable(cluster, what, ENGINE, f"a stats document with a wrong {where}") from None


def memory_used(memory: MemoryStats | None) -> float:
    if memory is None:
        return 0.0
    stats = memory.stats or {}
    usage = float(memory.usage or 0)
    for key in ("inactive_file", "total_inactive_file", "cache"):
        if key in stats:
            return max(usage - float(stats[key] or 0), 0.0)
    return usage


def cpu_pct_between(before: StatsSample, after: StatsSample, *, busy_clock: bool) -> float:
    """CPU % of one CPU between two samples. ``busy_clock``: the engine's system CPU time
    counts busy time only (Podman's), so the time between the samples is the measure."""
    cpu, pre = after.cpu, before.cpu
    cpu_delta = cpu.total - pre.total
    if cpu_delta <= 0:
        return 0.0
    if busy_clock:
        start, end = before.taken_at, after.taken_at
        elapsed_ns = (end - start).total_seconds() * 1e9 if start and end else 0.0
        return cpu_delta / elapsed_ns * 100 if elapsed_ns > 0 else 0.0
    system_delta = (cpu.system_cpu_usage or 0) - (pre.system_cpu_usage or 0)
    return cpu_delta / system_delta * cpu.cpus * 100 if system_delta > 0 else 0.0


def usage_between(before: StatsSample, after: StatsSample, *, busy_clock: bool = False) -> Usage:
    """Use over the time between two samples of one container."""
    throttling, pre_throttling = after.cpu.throttling, before.cpu.throttling
    memory = after.memory_stats
    return Usage(
        cpu_pct=cpu_pct_between(before, after, busy_clock=busy_clock),
        mem_used=memory_used(memory),
        mem_limit=float((memory.limit if memory else None) or 0),
        throttled_periods=(throttling.throttled_periods or 0)
        - (pre_throttling.throttled_periods or 0),
        periods=(throttling.periods or 0) - (pre_throttling.periods or 0),
    )


def api_version(version: str) -> tuple[int, int]:
    major, _, minor = version.removeprefix("v").partition(".")
    return int(major), int(minor or 0)


@dataclass(frozen=True)
class Sampling:
    """How to sample this engine: with ``one-shot`` (API 1.41), and whether its system CPU
    time is busy time only (Podman)."""

    one_shot: bool
    busy_clock: bool

    @classmethod
    async def of(cls, client: DockerClient) -> Sampling:
        version = await client.request("GET", client.path("version"), what="version")
        if not isinstance(version, dict):
            raise unusable(client.cluster, "version", ENGINE, "JSON of the wrong shape")
        return cls(
            one_shot=api_version(str(version.get("ApiVersion", "1.0"))) >= ONE_SHOT_API,
            busy_clock=runs_podman(version),
        )


async def one_sample(client: DockerClient, container_id: str, one_shot: bool) -> StatsSample | None:
    params = {"stream": "false", **({"one-shot": "true"} if one_shot else {})}
    found = await client.request(
        "GET",
        client.path("containers", container_id, "stats"),
        what=f"stats of {container_id}",
        params=params,
    )
    return read_sample(found, cluster=client.cluster, container_id=container_id)


async def sample(client: DockerClient, container_id: str, how: Sampling) -> Usage | None:
    """One container's use; None when it is gone or stopped meanwhile."""
    try:
        if not how.one_shot:
            both = await one_sample(client, container_id, one_shot=False)
            if both is None:
                return None
            return usage_between(StatsSample(cpu_stats=both.precpu_stats), both)
        first = await one_sample(client, container_id, one_shot=True)
        await asyncio.sleep(INTERVAL_S)
        second = await one_sample(client, container_id, one_shot=True)
    except NotFound:
        return None
    if first is None or second is None or not second.cpu.system_cpu_usage:
        return None
    return usage_between(first, second, busy_clock=how.busy_clock)


async def sample_all(
    client: DockerClient, container_ids: list[str], *, at_once: int | None = None
) -> list[Usage]:
    """Every container's use, ``at_once`` of them at a time (all when None)."""
    how = await Sampling.of(client)
    gate = asyncio.Semaphore(at_once or max(1, len(container_ids)))

    async def gated(container_id: str) -> Usage | None:
        async with gate:
            return await sample(client, container_id, how)

    found = await asyncio.gather(*(gated(c) for c in container_ids))
    return [u for u in found if u is not None]


def app_stats_from(usages: list[Usage], skipped: int) -> AppStats:
    """An app's stats from its instances' samples; ``skipped`` instances could not be
    sampled (on other nodes of a Swarm)."""
    message = (
        f"the Docker Engine keeps no history: a sample of {len(usages)} running instance(s) "
        f"over {INTERVAL_S:g} s"
    )
    if skipped:
        message += f"; {skipped} instance(s) on other nodes cannot be sampled from this manager"
    return AppStats(
        cpu_pct=round_up_pct(sum(u.cpu_pct for u in usages)),
        ram_pct=pct(sum(u.mem_used for u in usages), sum(u.mem_limit for u in usages)),
        cpu_thr_pct=pct(sum(u.throttled_periods for u in usages), sum(u.periods for u in usages)),
        source="sample",
        window=None,
        sampled_at=utc_now(),
        instances=len(usages),
        message=message,
    )


async def measure_engine(client: DockerClient) -> dict[str, Resources]:
    """What this engine's host is busy with: every running container's use, Asgard's or
    not, summed; keyed by the agent the engine is (its own id, or its node's in a Swarm).
    A Swarm manager can sample only its own containers, so other nodes have no meter."""
    info, running = await asyncio.gather(client.info(), client.containers(all=False))
    agent_id = str((info.get("Swarm") or {}).get("NodeID") or engine_id(info))
    usages = await sample_all(client, [str(c["Id"]) for c in running], at_once=METER_AT_ONCE)
    return {
        agent_id: Resources(
            cpus=sum(u.cpu_pct for u in usages) / 100, mem=sum(u.mem_used for u in usages) / MiB
        )
    }
