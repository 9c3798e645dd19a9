"""One cluster at the Kubernetes scalability limits, side by side with its floors.

In one run, on one emulator: Asgard's ``/agents`` and ``/apps`` against the direct calls
(``list_node``, ``list_namespaced_deployment``, with models and as raw JSON); the first
full read of every pod (how long Asgard's feed took to list them into its store, from
its log) against a direct raw-JSON list of the same pods in the same pages; ``/agents``
for every node against orjson serializing the same agents; then pods changing at a
steady rate, with Asgard's CPU time and each change's lag to ``/events``; and Asgard's
resident memory holding all of it.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import orjson
from kubernetes_asyncio import client as k8s

from bench.churn import Churned, churn_pods, listening
from bench.common import (
    body_of,
    clusters_process,
    direct_client,
    get,
    kube_cluster,
    timed,
    until_current,
)
from bench.load import HEADER, measure
from testbed.asgard_process import RunningAsgard, running_asgard
from testbed.synthetic import NAMESPACE, Shape, pod_names

__all__ = ["BigRun", "big_cluster"]

PAGE = 500


@dataclass(frozen=True)
class BigRun:
    shape: Shape
    requests: int
    direct_requests: int
    concurrency: int
    churn_rate: float
    churn_s: float


def listed_seconds(log: Path, resource: str) -> float | None:
    """How long Asgard's feed took to list ``resource`` into its store (its JSON log)."""
    for line in log.read_text().splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("event") == "listed" and entry.get("resource") == resource:
            return float(entry["seconds"])
    return None


def verdict(value: float, limit: float) -> str:
    return "met" if value <= limit else "NOT met"


async def big_cluster(run: BigRun, folder: Path) -> list[str]:
    shape = run.shape
    out = [f"### One cluster: {shape}", ""]
    async with clusters_process(
        "--nodes", str(shape.nodes), "--deployments", str(shape.deployments),
        "--pods", str(shape.pods),
    ) as ready:  # fmt: skip
        url = str(ready["big"])
        out.append(f"Emulator built in {ready['built_s']} s.")
        config = kube_cluster("big", url, timeout_s=300, resync_s=3600, page_size=PAGE)
        async with (
            running_asgard(folder / "big", [config]) as asgard,
            aiohttp.ClientSession() as session,
            direct_client(url) as api,
        ):
            cold_agents, _ = await timed(lambda: get(session, asgard, "/agents?limit=1"))
            cold_apps, _ = await timed(lambda: get(session, asgard, "/apps?limit=1"))
            synced = await until_current(session, asgard, 1, 600)
            agents = await get(session, asgard, "/agents?limit=5000")
            apps = await get(session, asgard, "/apps?limit=5000")
            if (agents["total"], apps["total"]) != (shape.nodes, shape.deployments):
                raise RuntimeError(f"Asgard saw {agents['total']} agents, {apps['total']} apps")
            out += [
                f"First read through Asgard: `/agents` {cold_agents:.1f} s (it waits for the "
                f"feed's first list of every node and pod), `/apps` {cold_apps:.1f} s; caches "
                f"current {synced:.1f} s later.",
                "",
            ]
            out += await _reads(run, session, asgard, api, agents["agents"])
            out += await _churn(run, url, session, asgard)
    return out


async def _reads(
    run: BigRun,
    session: aiohttp.ClientSession,
    asgard: RunningAsgard,
    api: k8s.ApiClient,
    agents: list[dict[str, Any]],
) -> list[str]:
    shape = run.shape
    core, apps_api = k8s.CoreV1Api(api), k8s.AppsV1Api(api)
    n, c, d = run.requests, run.concurrency, run.direct_requests

    async def raw_nodes() -> None:
        """The same call, the JSON parsed but not turned into model objects."""
        response: Any = await core.list_node(_preload_content=False)
        json.loads(await response.read())

    async def raw_pods() -> None:
        """Every pod, in Asgard's pages, the JSON parsed and let go page by page."""
        token: str | None = None
        while True:
            response: Any = await core.list_pod_for_all_namespaces(
                limit=PAGE, _continue=token or "", _preload_content=False
            )
            page = json.loads(await response.read())
            token = (page.get("metadata") or {}).get("continue") or None
            if token is None:
                return

    async def serialize() -> None:
        orjson.dumps(agents)

    async def raw_nodes_body() -> None:
        """The same call, its body read and not parsed: what a server's answer costs."""
        response: Any = await core.list_node(_preload_content=False)
        await response.read()

    everything = "/agents?limit=5000"
    one = f"all {shape.nodes:,}"
    direct_models = await measure(
        "direct `list_node()` (models)", core.list_node, requests=d, concurrency=c
    )
    direct_raw = await measure(
        "direct `list_node()` (raw JSON)", raw_nodes, requests=d, concurrency=c
    )
    direct_one = await measure(
        "direct `list_node()` (raw JSON), one at a time", raw_nodes, requests=d, concurrency=1
    )
    direct_body = await measure(
        "direct `list_node()`, body read not parsed, one at a time",
        raw_nodes_body,
        requests=d,
        concurrency=1,
    )
    agents_default = await measure(
        "Asgard `/agents` (default limit, 500)",
        lambda: get(session, asgard, "/agents"),
        requests=n,
        concurrency=c,
    )
    agents_all = await measure(
        f"Asgard `{everything}` ({one})",
        lambda: get(session, asgard, everything),
        requests=n,
        concurrency=c,
    )
    agents_one = await measure(
        f"Asgard `{everything}` ({one}), one at a time",
        lambda: get(session, asgard, everything),
        requests=n,
        concurrency=1,
    )
    agents_body = await measure(
        f"Asgard `{everything}` ({one}), body read not parsed, one at a time",
        lambda: body_of(session, asgard, everything),
        requests=n,
        concurrency=1,
    )
    dumps = await measure(
        f"orjson.dumps of the same {len(agents):,} agents", serialize, requests=n, concurrency=1
    )
    deployments = await measure(
        "direct `list_namespaced_deployment()` (models)",
        lambda: apps_api.list_namespaced_deployment(NAMESPACE),
        requests=d,
        concurrency=c,
    )
    apps_default = await measure(
        "Asgard `/apps` (default limit, 500)",
        lambda: get(session, asgard, "/apps"),
        requests=n,
        concurrency=c,
    )
    apps_all = await measure(
        f"Asgard `/apps?limit=5000` (all {shape.deployments:,})",
        lambda: get(session, asgard, "/apps?limit=5000"),
        requests=n,
        concurrency=c,
    )
    pods = await measure(
        f"direct raw-JSON list of every pod ({shape.pods:,}, pages of {PAGE})",
        raw_pods,
        requests=max(1, min(d, 3)),
        concurrency=1,
    )
    rows = [
        direct_models, direct_raw, direct_one, direct_body, agents_default, agents_all,
        agents_one, agents_body, dumps, deployments, apps_default, apps_all, pods,
    ]  # fmt: skip
    first = listed_seconds(asgard.log, "pods")
    first_ratio = (first or float("nan")) / (pods.p50_ms / 1000)
    served = agents_body.p50_ms / direct_body.p50_ms
    parsed = agents_one.p50_ms / direct_one.p50_ms
    return [
        HEADER,
        *[r.row() for r in rows],
        "",
        f"- `{everything}` one at a time, body read, p50 {agents_body.p50_ms:,.1f} ms: "
        f"{served:.3f}x the direct `list_node()` read the same way (target at most 0.1x: "
        f"{verdict(served, 0.1)}) and {agents_body.p50_ms / dumps.p50_ms:.1f}x orjson "
        f"serializing the same agents (target at most 3x: "
        f"{verdict(agents_body.p50_ms / dumps.p50_ms, 3)}). With both bodies parsed by the "
        f"client (stdlib `json`), p50 {agents_one.p50_ms:,.1f} ms: {parsed:.3f}x.",
        f"- First full read of the {shape.pods:,} pods (Asgard's feed listing them into its "
        f"store): {first if first is not None else float('nan'):.1f} s, {first_ratio:.2f}x "
        f"the direct raw-JSON list (target at most 2x: {verdict(first_ratio, 2)}).",
        f"- `/apps` p50 {apps_default.p50_ms:.1f} ms (target at most 1,000 ms).",
        "",
    ]


async def _churn(
    run: BigRun, url: str, session: aiohttp.ClientSession, asgard: RunningAsgard
) -> list[str]:
    started = time.monotonic()
    async with listening(session, asgard) as heard:
        loaded = time.monotonic() - started
        churned: Churned = await churn_pods(
            url,
            asgard,
            heard,
            pod_names(run.shape),
            rate=run.churn_rate,
            seconds=run.churn_s,
        )
        rss = asgard.rss_mib()
    late = sum(lag > 1.0 for lag in churned.lags_s)
    unheard = churned.sent - len(churned.lags_s)
    return [
        f"Pods changed behind Asgard's back (a container crashing: the task fails), "
        f"{run.churn_rate:g} a second for {run.churn_s:g} s, an `/events` listener of the "
        f"account connected first (it loaded every scope in {loaded:.1f} s):",
        "",
        "| what | figure |",
        "|---|---:|",
        f"| changes sent / accepted by the API server | {churned.sent:,} ({churned.rate:,.1f}/s) |",
        f"| Asgard's CPU time over the run | {churned.cpu_s:.2f} s |",
        f"| share of one core | {churned.core_share * 100:.1f}% |",
        f"| lag to `/events`, p50 / p99 / max ms | {churned.lag_ms(0.5):,.0f} / "
        f"{churned.lag_ms(0.99):,.0f} / {churned.lag_ms(1.0):,.0f} |",
        f"| lag of a direct watch of the same pods (the floor), p50 / p99 / max ms | "
        f"{churned.lag_ms(0.5, floor=True):,.0f} / {churned.lag_ms(0.99, floor=True):,.0f} / "
        f"{churned.lag_ms(1.0, floor=True):,.0f} |",
        f"| changes later than 1 s / never heard | {late} / {unheard} |",
        f"| Asgard's resident memory after | {rss:.0f} MiB |",
        "",
        f"- Target at most 25% of one core: {verdict(churned.core_share, 0.25)}; every change "
        f"within 1 s: {'met' if late == 0 and unheard == 0 else 'NOT met'}; resident memory "
        f"at most 400 MiB: {verdict(rss, 400)}.",
        "",
    ]
