"""What one more cluster costs Asgard: memory, connections and background CPU, for a
quiet cluster and for one that changes (issue 26: "per-cluster costs are measured").

Three ``asgard serve`` run one after the other over the same emulated clusters (each
``--cost-shape`` small: 3 nodes, 2 deployments, 6 pods by default): one following
``small`` quiet clusters, one following ``large`` quiet ones, and one following the
``small`` quiet ones and a cluster whose Deployment is scaled every second behind
Asgard's back. Each is asked every cluster's agents and apps once (so every cluster is
connected and cached, as once someone looked), then left alone; over ``window_s`` its
CPU time is read from ``/proc``, then its resident memory and its open sockets. A quiet
cluster's cost is the difference between the first two, divided by the difference in
clusters, so that what Asgard costs with any number of clusters cancels out; the
changing cluster's is the third less the first.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from bench.churn import cpu_seconds
from bench.common import get, kube_cluster, until_current
from testbed.asgard_process import running_asgard

__all__ = ["cluster_costs"]

ClustersProcess = Callable[..., AbstractAsyncContextManager[dict[str, Any]]]


@dataclass(frozen=True)
class Held:
    """What one Asgard held, left alone for the window."""

    clusters: int
    cpu_pct: float
    """Share of one core, over the window."""
    rss_mib: float
    sockets: int


def open_sockets(pid: int) -> int:
    folder = Path(f"/proc/{pid}/fd")
    found = 0
    for fd in os.listdir(folder):
        try:
            found += os.readlink(folder / fd).startswith("socket:")
        except FileNotFoundError:  # closed while listed
            continue
    return found


async def held(folder: Path, urls: Sequence[str], window_s: float) -> Held:
    configs = [kube_cluster(f"c{i:03d}", url) for i, url in enumerate(urls)]
    async with (
        running_asgard(folder, configs) as asgard,
        aiohttp.ClientSession() as session,
    ):
        await get(session, asgard, "/agents?limit=5000")
        await get(session, asgard, "/apps?limit=5000")
        await until_current(session, asgard, len(urls), 300)
        await asyncio.sleep(5)  # the first reads' garbage and timers settle
        before = cpu_seconds(asgard.pid)
        await asyncio.sleep(window_s)
        used = cpu_seconds(asgard.pid) - before
        return Held(
            clusters=len(urls),
            cpu_pct=100 * used / window_s,
            rss_mib=asgard.rss_mib(),
            sockets=open_sockets(asgard.pid),
        )


async def cluster_costs(
    folder: Path,
    clusters_process: ClustersProcess,
    fleets: str,
    shape: str,
    window_s: float,
) -> list[str]:
    """``fleets``: the two numbers of clusters, ``10,100``."""
    small, large = (int(n) for n in fleets.split(",", 1))
    out = [f"### What one more cluster costs: {small} and {large} clusters of {shape}", ""]
    # the first URL is the one that changes (--churn), the last never answers (unused)
    arguments = ("--fleet", str(large + 2), "--fleet-shape", shape, "--churn")
    async with clusters_process(*arguments) as ready:
        urls = [str(u) for u in ready["fleet"]]
        changing, quiet = urls[0], urls[1 : large + 1]
        few = await held(folder / "few", quiet[:small], window_s)
        many = await held(folder / "many", quiet, window_s)
        churned = await held(folder / "churned", [changing, *quiet[:small]], window_s)
    extra = large - small
    out += [
        f"Each Asgard left alone for {window_s:g} s once every cluster was read and cached "
        "(nobody listening, the default `resync_s` and `probe_s`).",
        "",
        "| Asgard following | CPU (% of a core) | resident MiB | open sockets |",
        "|---|---:|---:|---:|",
        *(
            f"| {h.clusters} {what} | {h.cpu_pct:.1f} | {h.rss_mib:.0f} | {h.sockets} |"
            for what, h in (
                ("quiet clusters", few),
                ("quiet clusters", many),
                ("clusters, 1 of them changing", churned),
            )
        ),
        "",
        "| one more cluster | CPU (% of a core) | resident MiB | open sockets |",
        "|---|---:|---:|---:|",
        f"| quiet | {(many.cpu_pct - few.cpu_pct) / extra:.3f} | "
        f"{(many.rss_mib - few.rss_mib) / extra:.2f} | "
        f"{(many.sockets - few.sockets) / extra:.1f} |",
        f"| changing (a Deployment scaled every second) | "
        f"{churned.cpu_pct - few.cpu_pct:.2f} | {churned.rss_mib - few.rss_mib:.1f} | "
        f"{churned.sockets - few.sockets} |",
        "",
    ]
    return out
