"""``python -m bench.scrape``: what one scrape of ``/metrics`` costs over a big fleet.

A scrape reads only what Asgard holds in memory, so this builds that memory as a fleet of
``--clusters`` Kubernetes clusters would leave it, without their servers: each cluster is
assembled as ``asgard serve`` assembles it (the kind's parts, its cache), its health and
call times noted as calls would note them, its cache holding, for each of ``--accounts``
accounts (a real SQLite database holds them), the namespace's apps, tasks and jobs and
the nodes, as listings would have left them (the issue's fleet: 20 nodes and 60 pods a
cluster). A few clusters are down, a few feeds cut. Then it times what the route does,
``FleetState.snapshot()`` and ``Metrics.render``, over ``--scrapes`` scrapes:

- steady: nothing changed between scrapes (the counts of each entry are kept by version);
- pods changed: every tasks and agents entry changed before each scrape (what pods
  changing on every cluster do: the cache counts its items again, the apps are not);
- churned: every apps and jobs entry changed before each scrape (everything counted again);
- per cluster only (``ASGARD_METRICS_PER_ACCOUNT=false``);
- the same series through prometheus_client's metric families and ``generate_latest``,
  which is what writing the text directly saves.

It prints markdown for bench/README.md. Nothing here is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from prometheus_client import generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric

from asgard.backends.cache_entries import Entry, Scope
from asgard.backends.call_times import BUCKETS_S
from asgard.backends.cluster import Cluster
from asgard.backends.kubernetes.config import KubernetesClusterConfig
from asgard.backends.orchestrator import Orchestrator
from asgard.backends.registry import BackendContext
from asgard.clusters import assemble
from asgard.db.engine import Database, upgrade
from asgard.events import EventHub
from asgard.http.fleet_metrics import FLEET_METRICS
from asgard.http.metrics import Metrics
from asgard.models import Account, AccountCreate, Agent, App, AppInstances, Job, Task
from asgard.models.app import AppStatus
from asgard.models.base import utc_now
from asgard.models.job import JobStatus
from asgard.services.accounts import AccountsService
from asgard.services.fleet_state import FleetSnapshot, FleetState
from asgard.services.principal import SYSTEM

NODES = 20
PODS = 60
APPS_PER_ACCOUNT = 4
JOBS_PER_ACCOUNT = 3


def agents(cluster: str) -> dict[str, Agent]:
    return {
        f"node-{n:02d}": Agent.model_construct(
            id=f"node-{n:02d}",
            cluster=cluster,
            type="KUBERNETES",
            hostname=f"node-{n:02d}",
            active=True,
        )
        for n in range(NODES)
    }


def apps(cluster: str, n: int) -> dict[str, App]:
    found = {}
    for i in range(n):
        desired = 1 + i % 3
        status: AppStatus = "failed" if i % 17 == 3 else "running"
        found[f"app-{i}"] = App.model_construct(
            id=f"app-{i}",
            image="registry.example/app:1",
            cluster=cluster,
            type="KUBERNETES",
            status=status,
            instances=AppInstances(desired=desired, running=desired - (status == "failed")),
        )
    return found


def tasks(cluster: str, n: int) -> dict[str, Task]:
    return {
        f"pod-{i}": Task.model_construct(
            id=f"pod-{i}", app_id=f"app-{i % APPS_PER_ACCOUNT}", cluster=cluster, state="running"
        )
        for i in range(n)
    }


def jobs(cluster: str, n: int) -> dict[str, Job]:
    states = ("succeeded", "failed", "running")
    return {
        f"job-{i}": Job.model_construct(
            id=f"job-{i}",
            name=f"job-{i}",
            image="busybox",
            cluster=cluster,
            status=JobStatus(state=states[i % len(states)]),
        )
        for i in range(n)
    }


def fill(cluster: Cluster, accounts: list[Account], rng: random.Random) -> None:
    """As listings and the feed would leave the cluster: mostly current and answering."""
    cache = cluster.cache
    assert cache is not None
    fate = rng.random()
    if fate < 0.01:
        cluster.health.failed(f"cluster {cluster.name} did not answer in 5 s")
    else:
        cluster.health.answered()
        cluster.health.probed_now("v1.31.0", rng.uniform(1, 30))
    cache._connected = fate >= 0.02  # the state a feed leaves; no feed runs
    cache.current = cache.connected
    cache.reconnects = rng.randrange(3)
    pods_each = PODS // max(1, len(accounts))
    for account in accounts:
        cache.entries[Scope.of("agents", account)] = Entry(agents(cluster.name), utc_now())
        cache.entries[Scope.of("apps", account)] = Entry(
            apps(cluster.name, APPS_PER_ACCOUNT), utc_now()
        )
        cache.entries[Scope.of("tasks", account)] = Entry(tasks(cluster.name, pods_each), utc_now())
        cache.entries[Scope.of("jobs", account)] = Entry(
            jobs(cluster.name, JOBS_PER_ACCOUNT), utc_now()
        )
    for _ in range(200):
        cluster.calls.observe("read", rng.lognormvariate(-4, 1))
    if rng.random() < 0.1:
        for _ in range(20):
            cluster.calls.observe("write", rng.lognormvariate(-2, 1))


async def fleet(n: int, accounts: list[Account], folder: Path) -> Orchestrator:
    context = BackendContext.local(folder / "data", "bench-secret-key-of-a-decent-length")
    hub = EventHub()
    rng = random.Random(26)
    clusters = []
    for i in range(n):
        config = KubernetesClusterConfig(
            name=f"c{i:04d}", url="http://127.0.0.1:9", token="bench", probe_s=15
        )
        cluster = await assemble(config, context, hub)
        fill(cluster, accounts, rng)
        clusters.append(cluster)
    return Orchestrator(clusters)


async def made_accounts(db: Database, n: int) -> list[Account]:
    service = AccountsService(db)
    return [
        await service.create(SYSTEM, AccountCreate(name=f"team-{i:02d}", namespace=f"team-{i:02d}"))
        for i in range(n)
    ]


def families(snapshot: FleetSnapshot) -> Iterator[Metric]:
    """The same series as prometheus_client's families: what writing the text saves."""

    def gauge(name: str, labels: list[str]) -> GaugeMetricFamily:
        return GaugeMetricFamily(name, FLEET_METRICS[name][1], labels=labels)

    info = gauge("asgard_cluster_info", ["cluster", "kind", "version"])
    up = gauge("asgard_cluster_up", ["cluster"])
    age = gauge("asgard_cluster_last_contact_age_seconds", ["cluster"])
    feed = gauge("asgard_cluster_feed_state", ["cluster", "state"])
    reconnects = gauge("asgard_cluster_feed_reconnects_total", ["cluster"])
    items = gauge("asgard_cluster_cache_items", ["cluster", "resource"])
    calls = HistogramMetricFamily(
        "asgard_cluster_call_duration_seconds", "calls", labels=["cluster", "call"]
    )
    for c in snapshot.clusters:
        info.add_metric([c.name, c.kind, c.version or ""], 1)
        up.add_metric([c.name], int(c.up))
        if c.last_contact_age_s is not None:
            age.add_metric([c.name], c.last_contact_age_s)
        for state in ("current", "behind", "cut", "off"):
            feed.add_metric([c.name, state], int(c.feed == state))
        if c.reconnects is not None:
            reconnects.add_metric([c.name], c.reconnects)
        for resource, n in c.cache_items.items():
            items.add_metric([c.name, resource], n)
        for kind, tally in c.calls.items():
            bounds = [*(repr(b) for b in BUCKETS_S), "+Inf"]
            calls.add_metric(
                [c.name, kind], list(zip(bounds, tally.cumulative(), strict=True)), tally.sum_s
            )
    yield from (info, up, age, feed, reconnects, items, calls)
    per = [
        ("asgard_apps", 0),
        ("asgard_app_instances_desired", 1),
        ("asgard_app_instances_running", 2),
        ("asgard_apps_failing", 3),
    ]
    for name, column in per:
        family = gauge(name, ["cluster", "account"])
        for w in snapshot.workloads:
            if w.apps is not None:
                family.add_metric([w.cluster, w.account or ""], w.apps[column])
        yield family
    failed = gauge("asgard_jobs_failed", ["cluster", "account"])
    for w in snapshot.workloads:
        if w.jobs_failed is not None:
            failed.add_metric([w.cluster, w.account or ""], w.jobs_failed)
    yield failed


class Families:
    def __init__(self, snapshot: FleetSnapshot) -> None:
        self.snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        return families(self.snapshot)


@dataclass
class Timed:
    """Each scrape's wall time and the process's CPU time over it, in ms, and the last body.
    On shared cores the wall time includes waiting for a core; the CPU time is the cost."""

    wall_ms: list[float]
    cpu_ms: list[float]
    body: bytes


async def timed(
    scrapes: int, scrape: Callable[[], Awaitable[bytes]], before: Callable[[], None] = lambda: None
) -> Timed:
    """``scrapes`` scrapes, each after ``before`` (not timed: what changed meanwhile)."""
    found = Timed([], [], b"")
    for _ in range(scrapes):
        before()
        started, cpu = time.perf_counter(), time.process_time()
        found.body = await scrape()
        found.cpu_ms.append((time.process_time() - cpu) * 1000)
        found.wall_ms.append((time.perf_counter() - started) * 1000)
    return found


def row(what: str, found: Timed) -> str:
    body = found.body
    lines = sum(1 for line in body.splitlines() if line and not line.startswith(b"#"))
    return (
        f"| {what} | {len(found.wall_ms)} | {statistics.median(found.cpu_ms):.1f} | "
        f"{max(found.cpu_ms):.1f} | {statistics.median(found.wall_ms):.1f} | {lines:,} | "
        f"{len(body) / 1024:,.0f} |"
    )


def churn(orchestrator: Orchestrator, resources: tuple[str, ...]) -> None:
    """Every entry of ``resources`` changed since the last scrape, on every cluster."""
    for cluster in orchestrator.clusters.values():
        assert cluster.cache is not None
        for scope, entry in cluster.cache.entries_held().items():
            if scope.resource in resources:
                entry.as_of += timedelta(microseconds=1)
                entry.touch()
                cluster.cache.moved(scope)  # as the cache does when it changes an entry


async def run(clusters: int, *, accounts: int, scrapes: int) -> list[str]:
    with tempfile.TemporaryDirectory(prefix="asgard-bench-scrape-") as folder:
        url = f"sqlite+aiosqlite:///{folder}/asgard.db"
        await upgrade(url)
        db = Database(url)
        try:
            held = await made_accounts(db, accounts)
            built = time.perf_counter()
            orchestrator = await fleet(clusters, held, Path(folder))
            built_s = time.perf_counter() - built
            metrics = Metrics()
            metrics.observe("/agents", "GET", 200, 0.02)
            per_account = FleetState(orchestrator, db, per_account=True)
            per_cluster = FleetState(orchestrator, db, per_account=False)

            async def scrape(state: FleetState = per_account) -> bytes:
                return metrics.render(await state.snapshot())

            def pods_changed() -> None:
                churn(orchestrator, ("tasks", "agents"))

            def churned() -> None:
                churn(orchestrator, ("apps", "jobs"))

            async def summed() -> bytes:
                return await scrape(per_cluster)

            async def through_families() -> bytes:
                snapshot = await per_account.snapshot()
                return generate_latest(metrics.registry) + generate_latest(Families(snapshot))

            first = await timed(1, scrape)
            steady = await timed(scrapes, scrape)
            pods = await timed(scrapes, scrape, before=pods_changed)
            changed = await timed(scrapes, scrape, before=churned)
            cluster_only = await timed(scrapes, summed)
            families_too = await timed(scrapes, through_families)
            await orchestrator.close()
        finally:
            await db.close()
    return [
        f"### Scraping /metrics: {clusters:,} clusters, {accounts} accounts",
        "",
        f"Command: `python -m bench.scrape --clusters {clusters} --accounts {accounts} "
        f"--scrapes {scrapes}`",
        "",
        f"Fleet built in memory in {built_s:.1f} s; first scrape {first.cpu_ms[0]:.1f} ms of "
        f"CPU ({first.wall_ms[0]:.1f} ms wall).",
        "",
        "| scrape | scrapes | CPU p50 ms | CPU max ms | wall p50 ms | samples | KiB |",
        "|---|---:|---:|---:|---:|---:|---:|",
        row("steady (nothing changed)", steady),
        row("pods changed (every tasks and agents entry)", pods),
        row("churned (every apps and jobs entry changed)", changed),
        row("per cluster only (`ASGARD_METRICS_PER_ACCOUNT=false`)", cluster_only),
        row("the same series through prometheus_client families", families_too),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--clusters", type=int, default=1000)
    parser.add_argument("--accounts", type=int, default=5)
    parser.add_argument("--scrapes", type=int, default=20)
    options = parser.parse_args()
    print(
        "\n".join(
            asyncio.run(run(options.clusters, accounts=options.accounts, scrapes=options.scrapes))
        )
    )


if __name__ == "__main__":
    main()
