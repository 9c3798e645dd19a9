"""The fleet's state as a scrape reads it: per cluster and per account, from memory.

``/metrics`` gives ops teams what they alert on (a cluster down, or not heard from for
minutes; an app failing; jobs failing). All of it is what Asgard already holds: each
cluster's health record, its cache and feed, the times of its calls, and the apps and jobs
its cache keeps of each account's namespace. A scrape asks no cluster anything, and the
only query it makes is the list of accounts (one statement; the last list read is used
while the database does not answer).

Apps and jobs are counted per account and cluster from the cache's entry of the account's
namespace, current or not (a cluster that is down keeps what was last seen; its
``asgard_cluster_up`` says so). A namespace nobody read (no listing, no ``/events``
listener, nothing within the cache's idle time) has no entry, and its account no series
for that cluster: a scrape loads nothing. A cluster without a cache gives what the
account's last listing there found, or nothing. Each entry's counts are kept by its
version, and what a cluster's cache gave is given again while the cache has not changed
since (its ``generation``): a scrape over a quiet fleet counts nothing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

import structlog

from asgard.backends.cache import ClusterCache
from asgard.backends.call_times import CallKind, Tally
from asgard.backends.cluster import Cluster
from asgard.backends.contract import AppsBackend, JobsBackend
from asgard.backends.feeds import Resource
from asgard.backends.operations import operation_of
from asgard.backends.orchestrator import Orchestrator
from asgard.db.engine import Database
from asgard.db.stores import AccountStore
from asgard.errors import DatabaseUnavailable
from asgard.models import Account

__all__ = ["AppCounts", "ClusterVitals", "FeedState", "FleetSnapshot", "FleetState", "Workload"]

log = structlog.get_logger(__name__)

FeedState = Literal["current", "behind", "cut", "off"]
FEED_STATES: tuple[FeedState, ...] = ("current", "behind", "cut", "off")
ACCOUNTS_TIMEOUT_S = 2.0
"""A scrape waits this long for the accounts, then uses the last list read."""


class AppCounts(NamedTuple):
    apps: int
    desired: int
    """Instances the apps ask for, summed."""
    running: int
    """Instances running, summed."""
    failing: int
    """Apps whose cluster says they failed."""


@dataclass(frozen=True, slots=True)
class ClusterVitals:
    """One cluster, as Asgard knows it now."""

    name: str
    kind: str
    version: str | None
    up: bool
    """It answered this process, and the last call to it (a probe, a request) too."""
    last_contact_age_s: float | None
    """Since its last answer; None when it never answered this process."""
    feed: FeedState
    """``current``: the feed is connected and every re-read worked; ``behind``: connected,
    a re-read failed; ``cut``: the feed is not connected; ``off``: the cluster has no cache."""
    reconnects: int | None
    """Times the feed connected again after a break; None without a cache."""
    calls: Mapping[CallKind, Tally]
    cache_items: Mapping[Resource, int]


@dataclass(frozen=True, slots=True)
class Workload:
    """An account's apps and jobs on one cluster (``account`` None: every account's,
    summed, when per-account series are off); None where nothing is held."""

    cluster: str
    account: str | None
    apps: AppCounts | None
    jobs_failed: int | None


@dataclass(frozen=True, slots=True)
class FleetSnapshot:
    clusters: list[ClusterVitals]
    workloads: list[Workload]


def vitals(cluster: Cluster, now: float) -> ClusterVitals:
    """What is known of ``cluster`` now (``now``: the wall clock, in seconds)."""
    health, cache = cluster.health, cluster.cache
    contact = health.last_contact_at
    return ClusterVitals(
        name=cluster.name,
        kind=cluster.kind,
        version=health.version,
        up=health.error is None and contact is not None,
        last_contact_age_s=None if contact is None else max(0.0, now - contact.timestamp()),
        feed=feed_state(cache),
        reconnects=None if cache is None else cache.reconnects,
        calls=dict(cluster.calls.tallies),
        cache_items={} if cache is None else cache.held_counts(),
    )


def feed_state(cache: ClusterCache | None) -> FeedState:
    if cache is None:
        return "off"
    if not cache.connected:
        return "cut"
    return "current" if cache.current else "behind"


def count_apps(apps: Iterable[Any]) -> AppCounts:
    n = desired = running = failing = 0
    for app in apps:
        n += 1
        instances = app.instances
        desired += instances.desired
        running += instances.running
        if app.status == "failed":
            failing += 1
    return AppCounts(n, desired, running, failing)


def count_failed_jobs(jobs: Iterable[Any]) -> int:
    failed = 0
    for job in jobs:
        if job.status.state == "failed":
            failed += 1
    return failed


Counted = dict[tuple[str, str], tuple[int, Any]]
"""Of one cluster, per (resource, namespace): the version of the entry last counted, and
its counts."""


@dataclass
class _Kept:
    """What the last scrape made of one cluster's cache, and at which generations of its
    apps, its jobs and the accounts: given again while none moved (pods changing move
    neither apps nor jobs)."""

    generation: tuple[int, int, int]
    """The cache's generations of apps and of jobs, and the accounts'."""
    workloads: list[Workload]
    counted: Counted


class FleetState:
    """What ``/metrics`` reads of the fleet: ``snapshot()``."""

    def __init__(self, orchestrator: Orchestrator, db: Database, *, per_account: bool) -> None:
        self.orchestrator = orchestrator
        self.db = db
        self.per_account = per_account
        self._accounts: list[Account] = []
        self._signature: tuple[tuple[Any, ...], ...] = ()
        self._accounts_generation = 0
        """Goes up whenever an account is made, changed or deleted: the counts per account
        are then made again."""
        self._kept: dict[str, _Kept] = {}

    async def snapshot(self) -> FleetSnapshot:
        accounts = await self._read_accounts()
        by_namespace = {a.namespace: a for a in accounts}
        by_id = {a.id: a for a in accounts}
        now = time.time()
        clusters = list(self.orchestrator.clusters.values())
        kept: dict[str, _Kept] = {}
        workloads: list[Workload] = []
        for cluster in clusters:
            if cluster.cache is None:
                found = _listed(cluster, by_id)
            else:
                kept[cluster.name] = self._held(cluster, cluster.cache, by_namespace)
                found = kept[cluster.name].workloads
            if self.per_account:
                workloads.extend(found)
            elif found:
                workloads.append(_summed(cluster.name, found))
        self._kept = kept  # what was kept of clusters gone since is let go
        return FleetSnapshot([vitals(c, now) for c in clusters], workloads)

    async def _read_accounts(self) -> list[Account]:
        """Every account; the last list read when the database does not answer soon."""
        try:
            async with asyncio.timeout(ACCOUNTS_TIMEOUT_S), self.db.session() as session:
                accounts = await AccountStore(session).every()
        except (DatabaseUnavailable, TimeoutError) as exc:
            log.warning("metrics: accounts not read; the last list is used", error=str(exc))
            return self._accounts
        signature = tuple((a.id, a.name, a.namespace, a.clusters) for a in accounts)
        if signature != self._signature:
            self._signature = signature
            self._accounts_generation += 1
        self._accounts = accounts
        return accounts

    def _held(
        self, cluster: Cluster, cache: ClusterCache, accounts: Mapping[str, Account]
    ) -> _Kept:
        """Each account's counts from the entries the cluster's cache holds of its
        namespace (an entry of no account's, such as the usage sampler's, is left out):
        what the last scrape found while neither the cache nor the accounts changed, and
        each entry counted again only when it changed."""
        moved = cache.generations
        generation = (moved["apps"], moved["jobs"], self._accounts_generation)
        last = self._kept.get(cluster.name)
        if last is not None and last.generation == generation:
            return last
        before: Counted = {} if last is None else last.counted
        counted: Counted = {}
        apps: dict[str, AppCounts] = {}
        jobs: dict[str, int] = {}
        name = cluster.name
        for scope, entry in cache.entries_held().items():
            resource = scope.resource
            if resource != "apps" and resource != "jobs":
                continue
            account = accounts.get(scope.namespace)
            if account is None or (account.clusters is not None and name not in account.clusters):
                continue  # no account's (the usage sampler's), or one that may not use it
            key = (resource, scope.namespace)
            kept: tuple[int, Any] | None = before.get(key)
            if kept is None or kept[0] != entry.version:
                items = entry.items.values()
                kept = (
                    entry.version,
                    count_apps(items) if resource == "apps" else count_failed_jobs(items),
                )
            counted[key] = kept
            value: Any = kept[1]
            if resource == "apps":
                apps[account.name] = value
            else:
                jobs[account.name] = value
        workloads = [
            Workload(cluster.name, name, apps.get(name), jobs.get(name))
            for name in sorted(apps.keys() | jobs.keys())
        ]
        return _Kept(generation, workloads, counted)


APPS = operation_of(AppsBackend.list_apps).name
JOBS = operation_of(JobsBackend.list_jobs).name


def _listed(cluster: Cluster, accounts: Mapping[int, Account]) -> list[Workload]:
    """For a cluster without a cache: what each account's last listing there found."""
    apps: dict[str, AppCounts] = {}
    jobs: dict[str, int] = {}
    for (operation, account_id), (items, _) in list(cluster.known.items()):
        account = accounts.get(account_id)
        if account is None or not account.may_use(cluster.name):
            continue
        if operation == APPS:
            apps[account.name] = count_apps(items)
        elif operation == JOBS:
            jobs[account.name] = count_failed_jobs(items)
    return [
        Workload(cluster.name, name, apps.get(name), jobs.get(name))
        for name in sorted(apps.keys() | jobs.keys())
    ]


def _summed(cluster: str, each: list[Workload]) -> Workload:
    """Every account's counts on one cluster as one (namespaces are the accounts' own, so
    no app is counted twice)."""
    apps = [w.apps for w in each if w.apps is not None]
    jobs = [w.jobs_failed for w in each if w.jobs_failed is not None]
    return Workload(
        cluster,
        None,
        AppCounts(*(sum(column) for column in zip(*apps, strict=True))) if apps else None,
        sum(jobs) if jobs else None,
    )
