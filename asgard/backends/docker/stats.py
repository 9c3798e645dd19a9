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
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from asgard.backends.common import Json
from asgard.backends.docker.client import DockerClient
from asgard.backends.docker.converters import MiB
from asgard.errors import NotFound
from asgard.models import AppStats, Resources
from asgard.models.base import pct, round_up_pct, utc_now

INTERVAL_S = 0.5
ONE_SHOT_API = (1, 41)
METER_AT_ONCE = 16
"""Containers sampled at once when metering a whole host, so hundreds of them do not open
hundreds of connections every interval."""


@dataclass(frozen=True)
class Usage:
    cpu_pct: float
    mem_used: float
    mem_limit: float
    throttled_periods: int
    periods: int


def memory_used(memory: Json) -> float:
    stats = memory.get("stats") or {}
    usage = float(memory.get("usage") or 0)
    for key in ("inactive_file", "total_inactive_file", "cache"):
        if key in stats:
            return max(usage - float(stats[key]), 0.0)
    return usage


def usage_between(before: Json, after: Json) -> Usage:
    """Use over the time between two samples of one container."""
    cpu, pre = after.get("cpu_stats") or {}, before.get("cpu_stats") or {}
    cpu_delta = (cpu.get("cpu_usage") or {}).get("total_usage", 0) - (
        pre.get("cpu_usage") or {}
    ).get("total_usage", 0)
    system_delta = cpu.get("system_cpu_usage", 0) - pre.get("system_cpu_usage", 0)
    cpus = (
        cpu.get("online_cpus") or len((cpu.get("cpu_usage") or {}).get("percpu_usage") or []) or 1
    )
    cpu_pct = cpu_delta / system_delta * cpus * 100 if system_delta > 0 and cpu_delta > 0 else 0.0
    throttling, pre_throttling = cpu.get("throttling_data") or {}, pre.get("throttling_data") or {}
    memory = after.get("memory_stats") or {}
    return Usage(
        cpu_pct=cpu_pct,
        mem_used=memory_used(memory),
        mem_limit=float(memory.get("limit") or 0),
        throttled_periods=throttling.get("throttled_periods", 0)
        - pre_throttling.get("throttled_periods", 0),
        periods=throttling.get("periods", 0) - pre_throttling.get("periods", 0),
    )


def api_version(version: str) -> tuple[int, int]:
    major, _, minor = version.removeprefix("v").partition(".")
    return int(major), int(minor or 0)


async def one_sample(client: DockerClient, container_id: str, one_shot: bool) -> Json:
    params = {"stream": "false", **({"one-shot": "true"} if one_shot else {})}
    found: Json = await client.request(
        "GET",
        client.path("containers", container_id, "stats"),
        what=f"stats of {container_id}",
        params=params,
    )
    return found


async def sample(client: DockerClient, container_id: str, one_shot: bool) -> Usage | None:
    """One container's use; None when it is gone or stopped meanwhile."""
    try:
        if not one_shot:
            both = await one_sample(client, container_id, one_shot=False)
            return usage_between({"cpu_stats": both.get("precpu_stats") or {}}, both)
        first = await one_sample(client, container_id, one_shot=True)
        await asyncio.sleep(INTERVAL_S)
        second = await one_sample(client, container_id, one_shot=True)
    except NotFound:
        return None
    if not (second.get("cpu_stats") or {}).get("system_cpu_usage"):
        return None
    return usage_between(first, second)


async def sample_all(
    client: DockerClient, container_ids: list[str], *, at_once: int | None = None
) -> list[Usage]:
    """Every container's use, ``at_once`` of them at a time (all when None)."""
    version = await client.request("GET", client.path("version"), what="version")
    one_shot = api_version(str(version.get("ApiVersion", "1.0"))) >= ONE_SHOT_API
    gate = asyncio.Semaphore(at_once or max(1, len(container_ids)))

    async def gated(container_id: str) -> Usage | None:
        async with gate:
            return await sample(client, container_id, one_shot)

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
    agent_id = str((info.get("Swarm") or {}).get("NodeID") or info["ID"])
    usages = await sample_all(client, [str(c["Id"]) for c in running], at_once=METER_AT_ONCE)
    return {
        agent_id: Resources(
            cpus=sum(u.cpu_pct for u in usages) / 100, mem=sum(u.mem_used for u in usages) / MiB
        )
    }
