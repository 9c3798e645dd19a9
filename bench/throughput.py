"""Throughput of one Asgard process on its hot read routes, against its own floor.

``wrk`` (16 connections, closed loop) asks each route for ``seconds``, one route after
the other, in the same run: first an unmatched route, which goes through the same
middlewares and needs no authentication, and is the most this process can answer; then
``/agents`` (100 agents), ``/apps`` (50 apps), ``/clusters`` and ``/users/me``, each
authenticated. Targets: each at least half the floor.
"""

from __future__ import annotations

import asyncio
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from testbed.asgard_process import RunningAsgard, running_asgard

SHAPE = ("--nodes", "100", "--deployments", "50", "--pods", "1000")
ROUTES = ["/agents", "/apps", "/clusters", "/users/me"]
FLOOR = "/no-such-route"
TARGET = 0.5
CONNECTIONS = 16


@dataclass(frozen=True)
class Measured:
    route: str
    requests_s: float
    p50_ms: float
    p99_ms: float
    errors: int


def _ms(value: str) -> float:
    number, unit = float(re.sub(r"[a-z]+$", "", value)), re.sub(r"^[0-9.]+", "", value)
    return number * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def parse_wrk(route: str, output: str) -> Measured:
    rate = re.search(r"Requests/sec:\s+([0-9.]+)", output)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.M)
    if rate is None or p50 is None or p99 is None:
        raise RuntimeError(f"wrk said nothing measurable for {route}:\n{output}")
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors:.*", output)
    failed = int(bad.group(1)) if bad and route != FLOOR else 0
    if errors:
        failed += sum(int(n) for n in re.findall(r"\d+", errors.group(0)))
    return Measured(route, float(rate.group(1)), _ms(p50.group(1)), _ms(p99.group(1)), failed)


async def wrk(asgard: RunningAsgard, route: str, seconds: int) -> Measured:
    headers = [] if route == FLOOR else ["-H", f"Authorization: {asgard.headers['Authorization']}"]
    process = await asyncio.create_subprocess_exec(
        "wrk", "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", *headers,
        f"{asgard.url}{route}",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    said, _ = await process.communicate()
    return parse_wrk(route, said.decode())


async def warm(asgard: RunningAsgard) -> None:
    """Every route answered once (caches loaded, credentials read), before measuring."""
    async with aiohttp.ClientSession() as session:
        for route in ROUTES:
            async with session.get(f"{asgard.url}{route}", headers=asgard.headers) as answer:
                if answer.status != 200:
                    raise RuntimeError(f"GET {route}: {answer.status} {await answer.text()}")


async def throughput(cluster_url: str, folder: Path, seconds: int) -> list[str]:
    if shutil.which("wrk") is None:
        return ["### Throughput", "", "wrk is not installed (`apt-get install -y wrk`)."]
    # The watches keep the cache current; a full re-read every 30 s would measure the
    # emulator sharing these two cores, not Asgard answering.
    config = {
        "name": "k8s",
        "kind": "kubernetes",
        "url": cluster_url,
        "token": "bench",
        "resync_s": 3600,
    }
    out = [
        "### Throughput of one process against its floor",
        "",
        f"wrk, {CONNECTIONS} connections, {seconds} s per route; a Kubernetes cluster of 100 "
        "nodes and 1,000 pods in 50 deployments; caches warm (kept by the watches, no "
        "periodic re-read during the run).",
        "",
        "| route | requests/s | p50 ms | p99 ms | errors | x floor |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    async with running_asgard(folder / "throughput", [config]) as asgard:
        await warm(asgard)
        await asyncio.sleep(2)  # the caches' first re-read settles
        floor = await wrk(asgard, FLOOR, seconds)
        measured = [floor] + [await wrk(asgard, r, seconds) for r in ROUTES]
    for m in measured:
        ratio = m.requests_s / floor.requests_s
        out.append(
            f"| `{m.route}` | {m.requests_s:,.0f} | {m.p50_ms:,.1f} | {m.p99_ms:,.1f} "
            f"| {m.errors} | {ratio:.2f} |"
        )
    met = [m.route for m in measured[1:] if m.requests_s >= TARGET * floor.requests_s]
    missed = [m.route for m in measured[1:] if m.route not in met]
    out += [
        "",
        f"Target each route at least {TARGET}x the floor: "
        + ("**met** for every route." if not missed else f"**missed** for {', '.join(missed)}."),
        "",
    ]
    return out
