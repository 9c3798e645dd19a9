"""CPU and memory use of an app's instances, sampled from ``/proc``: the host keeps no
history, so the figures are a sample Asgard takes now.

CPU is the user and system time every process of each instance's group used between two
readings ``INTERVAL_S`` apart, against the CPUs the app declares (one core per instance
when it declares none); memory is their resident size against the memory it declares
(the host's memory when it declares none). Nothing is throttled on a plain host, and
nothing measures it: ``cpu_thr_pct`` is unknown.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from asgard.models import AppStats, ResourceLimits
from asgard.models.base import pct, utc_now
from asgard_local.procfs import CLOCK_TICKS, group_members, rss_kib

__all__ = ["INTERVAL_S", "Usage", "app_stats_from", "sample"]

INTERVAL_S = 0.5


@dataclass(frozen=True)
class Usage:
    """One instance over the sample: CPU cores used, resident memory in MiB."""

    cores: float
    mem_mib: float


def _ticks(pgid: int) -> dict[int, int]:
    return {p.pid: p.cpu_ticks for p in group_members(pgid)}


def _usage(before: dict[int, int], after: dict[int, int], seconds: float) -> Usage:
    used = sum(ticks - before.get(pid, 0) for pid, ticks in after.items())
    rss = sum(rss_kib(pid) for pid in after)
    return Usage(cores=max(used, 0) / CLOCK_TICKS / seconds, mem_mib=rss / 1024)


async def sample(groups: list[int]) -> list[Usage]:
    """Each process group's use over ``INTERVAL_S``; groups that ended meanwhile drop out."""
    before = await asyncio.to_thread(lambda: {g: _ticks(g) for g in groups})
    await asyncio.sleep(INTERVAL_S)
    after = await asyncio.to_thread(lambda: {g: _ticks(g) for g in groups})
    found = await asyncio.to_thread(
        lambda: [_usage(before[g], after[g], INTERVAL_S) for g in groups if after[g]]
    )
    return found


def app_stats_from(usages: list[Usage], limits: ResourceLimits, host_mem_mib: float) -> AppStats:
    count = len(usages)
    cores = count * (limits.cpus or 1.0)
    memory = count * limits.mem if limits.mem else host_mem_mib
    against = (
        f"CPU against {'the declared cpus' if limits.cpus else 'one core per instance'}, "
        f"memory against {'the declared mem' if limits.mem else 'the host memory'}"
    )
    return AppStats(
        cpu_pct=pct(sum(u.cores for u in usages), cores) if count else 0.0,
        ram_pct=pct(sum(u.mem_mib for u in usages), memory) if count else 0.0,
        cpu_thr_pct=None,
        source="sample",
        window=None,
        sampled_at=utc_now(),
        instances=count,
        message=(
            f"the host keeps no history: a sample of {count} running instance(s) over "
            f"{INTERVAL_S:g} s, read from /proc; {against}"
        ),
    )
