"""``python -m bench`` (or ``make bench``): Asgard against synthetic clusters, side by side
with the direct client call against the same servers. Prints markdown for bench/README.md.

Three runs, each with its own clusters process and its own ``asgard serve``:

1. one cluster at the Kubernetes scalability limits (5,000 nodes, 150,000 pods in 2,000
   Deployments): ``/agents`` and ``/apps`` against ``list_node`` and
   ``list_namespaced_deployment``, the first read of every pod against a direct list,
   ``/agents`` against orjson, then pods changing ``--churn-rate`` a second for
   ``--churn-s`` seconds (Asgard's CPU, each change's lag) and Asgard's memory
   (``bench/big.py``);
2. a fleet of 50 clusters of which the last never answers: ``/agents`` over all of them
   against asking each cluster directly, concurrently, with the same timeout, and
   ``/metrics``;
3. a soak: the fleet, a Deployment scaled every second behind Asgard's back, an ``/events``
   listener and steady reads for ``--soak-s`` seconds, sampling Asgard's memory;
4. throughput: wrk against each hot route and the process's own floor;
5. load: 200 readers and 20 ``/events`` listeners over a healthy and a hung cluster for
   ``--load-s`` seconds (the test in ``make test`` runs the same for 15 s);
6. ui: the dashboard over 50 clusters of 20 agents: the fleet page's render time, a page's
   weight with its files, and a change behind Asgard's back to an open page in Chromium;
7. fleet-page: the fleet page over ``--page-clusters`` (1,000) small clusters: its time on
   the server and its size as sent, for several views (``bench/fleet_page.py``).
8. scrape: one scrape of ``/metrics`` over 1,000 clusters held in memory (``bench/scrape.py``;
   the fleet run above also times ``/metrics`` through ``asgard serve``).
9. cluster-costs: what one more cluster costs, quiet and changing (``bench/cluster_costs.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from kubernetes_asyncio import client as k8s

from bench.big import BigRun, big_cluster
from bench.cluster_costs import cluster_costs
from bench.common import (
    body_of,
    clusters_process,
    direct_client,
    get,
    kube_cluster,
    until_current,
)
from bench.fleet_page import fleet_page
from bench.load import HEADER, measure
from bench.scrape import run as scrape_cost
from bench.throughput import SHAPE as THROUGHPUT_SHAPE
from bench.throughput import throughput
from bench.ui import dashboard
from testbed.asgard_process import RunningAsgard, running_asgard
from testbed.load import run_against_a_fleet
from testbed.synthetic import Shape

DEAD_TIMEOUT_S = 1.0


@dataclass(frozen=True)
class Options:
    shape: Shape
    fleet: int
    requests: int
    direct_requests: int
    concurrency: int
    soak_s: float
    sample_every_s: float
    only: frozenset[str]
    throughput_s: int
    load_s: float
    churn_rate: float
    churn_s: float
    scrape_clusters: int
    page_clusters: int = 1000
    page_shape: str = "3,2,6"
    cost_clusters: str = "10,100"
    cost_window_s: float = 60


# 1. one big cluster


async def big(options: Options, folder: Path) -> list[str]:
    run = BigRun(
        shape=options.shape,
        requests=options.requests,
        direct_requests=options.direct_requests,
        concurrency=options.concurrency,
        churn_rate=options.churn_rate,
        churn_s=options.churn_s,
    )
    return await big_cluster(run, folder)


# 2. the fleet, one cluster dead


async def fleet(options: Options, folder: Path) -> list[str]:
    out = [f"### {options.fleet} clusters, the last never answers", ""]
    async with clusters_process("--fleet", str(options.fleet)) as ready:
        urls = [str(u) for u in ready["fleet"]]
        configs = [
            kube_cluster(f"c{i:02d}", url, timeout_s=DEAD_TIMEOUT_S) for i, url in enumerate(urls)
        ]
        healthy = len(urls) - 1
        async with (
            running_asgard(folder / "fleet", configs) as asgard,
            aiohttp.ClientSession() as session,
        ):
            await get(session, asgard, "/agents?limit=5000")
            await get(session, asgard, "/apps?limit=5000")
            synced = await until_current(session, asgard, healthy, 300)
            expected = None

            async def agents() -> None:
                nonlocal expected
                body = await get(session, asgard, "/agents?limit=5000")
                clusters = {a["cluster"] for a in body["agents"]}
                errors = [(e["cluster"], e["kind"]) for e in body["errors"]]
                if len(clusters) != healthy or errors != [(f"c{healthy:02d}", "timeout")]:
                    raise RuntimeError(f"{len(clusters)} clusters answered; errors {errors}")
                expected = body["total"]

            async def scrape() -> None:
                await body_of(session, asgard, "/metrics")

            async def direct() -> None:
                async def one(url: str) -> None:
                    async with direct_client(url) as api:
                        with contextlib.suppress(TimeoutError):
                            async with asyncio.timeout(DEAD_TIMEOUT_S):
                                await k8s.CoreV1Api(api).list_node()

                await asyncio.gather(*(one(u) for u in urls))

            n, c = options.requests, options.concurrency
            rows = [
                await measure(
                    f"direct `list_node()` on all {len(urls)}, {DEAD_TIMEOUT_S:g} s timeout",
                    direct,
                    requests=options.direct_requests,
                    concurrency=c,
                ),
                await measure(
                    f"Asgard `/agents` over {len(urls)} clusters", agents, requests=n, concurrency=1
                ),
                await measure(
                    f"Asgard `/agents` over {len(urls)} clusters", agents, requests=n, concurrency=c
                ),
                await measure(
                    f"Asgard `/metrics` over {len(urls)} clusters (body read, not parsed)",
                    scrape,
                    requests=n,
                    concurrency=1,
                ),
            ]
            out += [
                f"Caches of the {healthy} healthy clusters current {synced:.1f} s after the "
                f"first read. Every answer held all {healthy} healthy clusters' agents "
                f"({expected} in all) and one `timeout` error entry for the dead one.",
                "",
                HEADER,
                *[r.row() for r in rows],
                "",
                f"`/agents` p99 {rows[1].p99_ms:,.0f} ms one request at a time, "
                f"{rows[2].p99_ms:,.0f} ms with {c} at once, against a budget of "
                f"{DEAD_TIMEOUT_S * 1000 + 100:,.0f} ms (the dead cluster's timeout + 100 ms).",
                "",
            ]
    return out


# 3. the soak


async def listen(session: aiohttp.ClientSession, asgard: RunningAsgard, heard: list[int]) -> None:
    """An /events listener that reads slowly, reconnecting when cut off."""
    while True:
        with contextlib.suppress(aiohttp.ClientError):
            async with session.get(
                f"{asgard.url}/events", headers=asgard.headers, timeout=aiohttp.ClientTimeout()
            ) as response:
                async for line in response.content:
                    if line.startswith(b"data:"):
                        heard[0] += 1
                    await asyncio.sleep(0.01)
        await asyncio.sleep(1)


async def soak(options: Options, folder: Path) -> list[str]:
    out = [f"### Soak: {options.soak_s / 60:g} minutes, {options.fleet} clusters, churn", ""]
    async with clusters_process("--fleet", str(options.fleet), "--churn") as ready:
        urls = [str(u) for u in ready["fleet"]]
        configs = [
            kube_cluster(f"c{i:02d}", url, timeout_s=DEAD_TIMEOUT_S) for i, url in enumerate(urls)
        ]
        async with (
            running_asgard(folder / "soak", configs) as asgard,
            aiohttp.ClientSession() as session,
        ):
            # As in the fleet run: the first reads, then the caches settle. Fifty emulators
            # share one process here, so a cold start all at once only measures that process.
            for path in ("/agents?limit=5000", "/apps?limit=5000", "/jobs"):
                await get(session, asgard, path)
            # The dead cluster never is, and the churned one may be behind at any moment.
            await until_current(session, asgard, len(urls) - 2, 300)
            heard = [0]
            listener = asyncio.create_task(listen(session, asgard, heard))
            paths = ["/agents?limit=5000", "/apps?limit=5000", "/clusters", "/jobs"]
            dead = configs[-1]["name"]
            served = 0
            refused: dict[str, int] = {}
            partial: dict[str, int] = {}  # healthy clusters missing from an answer

            async def reader() -> None:
                nonlocal served
                while True:
                    path = paths[served % len(paths)]
                    served += 1
                    try:
                        body = await get(session, asgard, path)
                        for error in body.get("errors") or []:
                            if error.get("cluster") != dead:
                                partial[error["cluster"]] = partial.get(error["cluster"], 0) + 1
                    except (RuntimeError, aiohttp.ClientError) as exc:
                        refused[path] = refused.get(path, 0) + 1
                        if refused[path] == 1:
                            print(f"soak: {path} failed: {exc}", file=sys.stderr)

            readers = [asyncio.create_task(reader()) for _ in range(options.concurrency)]
            samples: list[tuple[float, float]] = []
            started = time.monotonic()
            try:
                while (elapsed := time.monotonic() - started) < options.soak_s:
                    samples.append((elapsed, asgard.rss_mib()))
                    await asyncio.sleep(options.sample_every_s)
                samples.append((time.monotonic() - started, asgard.rss_mib()))
            finally:
                for task in [listener, *readers]:
                    task.cancel()
                await asyncio.gather(listener, *readers, return_exceptions=True)
            warm = next((m for t, m in samples if t >= options.soak_s / 10), samples[0][1])
            end, peak = samples[-1][1], max(m for _, m in samples)
            out += [
                f"{served:,} reads ({sum(refused.values())} failed), {heard[0]:,} events "
                f"heard; {sum(partial.values())} error entries for a healthy cluster "
                f"({', '.join(sorted(partial)) or 'none'}). Asgard's resident memory "
                f"(MiB) every {options.sample_every_s:g} s:",
                "",
                "```",
                " ".join(f"{m:.0f}" for _, m in samples),
                "```",
                "",
                f"After the first tenth of the run: {warm:.0f} MiB; at the end: {end:.0f} MiB "
                f"({(end - warm) / warm * 100:+.1f}%); peak {peak:.0f} MiB.",
                "",
            ]
    return out


# 4. throughput against the floor


async def hot_routes(options: Options, folder: Path) -> list[str]:
    async with clusters_process(*THROUGHPUT_SHAPE) as ready:
        return await throughput(str(ready["big"]), folder, options.throughput_s)


# 5. load: many clients at once


async def crowd(options: Options, folder: Path) -> list[str]:
    report = await run_against_a_fleet(folder / "load", options.load_s)
    load = report.load
    verdict = "met" if not load.problems and load.streams_ended == 0 else "NOT met"
    growth = (report.after_mib - report.before_mib) / report.before_mib * 100
    return [
        f"### Load: 200 readers, 20 `/events` listeners, {options.load_s:g} s, a hung cluster",
        "",
        f"{load.answered:,} answers ({load.answered / options.load_s:,.0f}/s), "
        f"{len(load.problems)} problems, {load.streams_ended} streams ended, "
        f"{load.events_read:,} events heard. Memory {report.before_mib:.0f} MiB before, "
        f"{report.peak_mib:.0f} at most, {report.after_mib:.0f} after ({growth:+.1f}%, "
        f"target within 10%): {verdict}.",
        *[f"- {problem}" for problem in load.problems[:10]],
        "",
    ]


# 6. the dashboard


async def ui_pages(options: Options, folder: Path) -> list[str]:
    return await dashboard(folder, clusters_process, options.requests)


async def fleet_page_views(options: Options, folder: Path) -> list[str]:
    requests = min(options.requests, 50)
    return await fleet_page(
        folder, clusters_process, options.page_clusters, options.page_shape, requests
    )


# 8. one scrape of /metrics over a big fleet


async def scrapes(options: Options, folder: Path) -> list[str]:
    return await scrape_cost(options.scrape_clusters, accounts=5, scrapes=20)


RUNS: dict[str, Callable[[Options, Path], Awaitable[list[str]]]] = {
    "big": big,
    "fleet": fleet,
    "soak": soak,
    "throughput": hot_routes,
    "load": crowd,
    "ui": ui_pages,
    "fleet-page": fleet_page_views,
    "scrape": scrapes,
    "cluster-costs": lambda o, f: cluster_costs(
        f, clusters_process, o.cost_clusters, o.page_shape, o.cost_window_s
    ),
}
SCENARIOS = list(RUNS)


def parse() -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--nodes", type=int, default=5000)
    parser.add_argument("--deployments", type=int, default=2000)
    parser.add_argument("--pods", type=int, default=150_000)
    parser.add_argument("--fleet", type=int, default=50, help="clusters; the last never answers")
    parser.add_argument("--requests", type=int, default=200, help="per Asgard figure")
    parser.add_argument("--direct-requests", type=int, default=20, help="per direct figure")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--soak-s", type=float, default=600)
    parser.add_argument("--sample-every-s", type=float, default=30)
    parser.add_argument("--throughput-s", type=int, default=15, help="wrk seconds per route")
    parser.add_argument("--load-s", type=float, default=60, help="seconds of the load run")
    parser.add_argument("--churn-rate", type=float, default=100, help="pod changes a second")
    parser.add_argument("--churn-s", type=float, default=30, help="seconds of pod changes")
    parser.add_argument("--page-clusters", type=int, default=1000, help="fleet-page's clusters")
    parser.add_argument("--page-shape", default="3,2,6", help="each one's nodes,deploys,pods")
    parser.add_argument("--scrape-clusters", type=int, default=1000, help="held for the scrape")
    parser.add_argument("--cost-clusters", default="10,100", help="cluster-costs' two fleets")
    parser.add_argument("--cost-window-s", type=float, default=60, help="seconds left alone")
    parser.add_argument(
        "--only",
        choices=SCENARIOS,
        action="append",
        help="run only these",
    )
    args = parser.parse_args()
    options = Options(
        shape=Shape(args.nodes, args.deployments, args.pods),
        fleet=args.fleet,
        requests=args.requests,
        direct_requests=args.direct_requests,
        concurrency=args.concurrency,
        soak_s=args.soak_s,
        sample_every_s=args.sample_every_s,
        only=frozenset(args.only or SCENARIOS),
        throughput_s=args.throughput_s,
        load_s=args.load_s,
        churn_rate=args.churn_rate,
        churn_s=args.churn_s,
        page_clusters=args.page_clusters,
        page_shape=args.page_shape,
        scrape_clusters=args.scrape_clusters,
        cost_clusters=args.cost_clusters,
        cost_window_s=args.cost_window_s,
    )
    return options


async def run(options: Options) -> None:
    print(f"Command: `{' '.join(['python -m bench', *sys.argv[1:]])}`\n", flush=True)
    with tempfile.TemporaryDirectory(prefix="asgard-bench-") as tmp:
        folder = Path(tmp)
        for name, scenario in RUNS.items():
            if name in options.only:
                print("\n".join(await scenario(options, folder)), flush=True)


def main() -> None:
    asyncio.run(run(parse()))


if __name__ == "__main__":
    main()
