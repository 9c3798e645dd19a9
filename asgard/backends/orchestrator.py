"""Every cluster as one: the object services, routes and background work talk to.

An operation of the contract is run by naming it::

    app = await orchestrator.call(account, "prod", AppsBackend.update_app, "web", patch)
    apps = await orchestrator.fan_out(account, None, AppsBackend.list_apps)

``call`` checks the cluster's name once (unknown, or not the account's: ``NotFound``)
and runs the operation on that cluster's part, under its guard (``Cluster.run``).
``fan_out`` runs a listing on every cluster the account may use, concurrently, each
under its own timeout: a cluster that fails becomes an entry of ``Listing.errors``
(one bad cluster must not blank the page), a kind that cannot do the listing has
nothing to list, and only when every cluster fails does the read fail, with
``AllClustersFailed``. ``fan_out_stale`` (``?stale=true``) lets a cluster that fails
contribute what was last seen there instead, its error entry saying since when. Both
are typed from the operation named: mypy checks the arguments and knows the answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, cast

from asgard.backends.cluster import Cluster, Listed
from asgard.backends.contract import Backend, ScheduledJobsBackend
from asgard.errors import AllClustersFailed, ClusterError, NotFound, NotSupported
from asgard.events import EventHub
from asgard.models import Account, Capabilities, ClusterErrorInfo, ClusterStatus
from asgard.models.base import utc_now

__all__ = ["Listing", "Orchestrator"]

T = TypeVar("T")
P = ParamSpec("P")
B = TypeVar("B", bound=Backend)


@dataclass
class Listing(Generic[T]):
    """What a multi-cluster read found: the healthy clusters' items and the others' errors,
    and when each cluster's answer was read (from its cache, or live)."""

    items: list[T] = field(default_factory=list)
    errors: list[ClusterErrorInfo] = field(default_factory=list)
    as_of: dict[str, datetime] = field(default_factory=dict)
    versions: dict[str, int | None] = field(default_factory=dict)
    """Per cluster that answered, the version of the cache entry its items came from."""

    @property
    def version(self) -> tuple[tuple[str, int], ...] | None:
        """What names this very listing: every cluster answered from its cache, at these
        versions (cache entry versions are never reused). None when any cluster was read
        live or failed: that listing is not to be kept."""
        if self.errors or any(v is None for v in self.versions.values()):
            return None
        return tuple((name, v) for name, v in self.versions.items() if v is not None)


class Orchestrator:
    def __init__(self, clusters: Sequence[Cluster]) -> None:
        names = [c.name for c in clusters]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"cluster names must be unique, repeated: {', '.join(duplicates)}")
        self.clusters: dict[str, Cluster] = {c.name: c for c in sorted(clusters, key=_name)}
        self._hub: EventHub | None = None
        self._scheduler: Callable[[str, str], ScheduledJobsBackend] | None = None

    def cluster_names(self) -> list[str]:
        return list(self.clusters)

    def cluster(self, account: Account, name: str) -> Cluster:
        """The named cluster, if it exists and the account may use it."""
        found = self.clusters.get(name)
        if found is None or not account.may_use(name):
            raise NotFound(f"unknown cluster '{name}'", field="cluster", cluster=name)
        return found

    def kind(self, account: Account, cluster: str) -> str:
        """docker, kubernetes, mesos...; ``NotFound`` for a cluster the account cannot use."""
        return self.cluster(account, cluster).kind

    def admit(self, account: Account, cluster: str, *specs: Any) -> None:
        """Refuse (422) what the cluster's entry forbids in specs that will be written
        later (a workflow's stages): every write checks its own at once."""
        self.cluster(account, cluster).admit(*specs)

    def capabilities(self, account: Account, cluster: str) -> Capabilities:
        return self.cluster(account, cluster).capabilities

    def chosen(self, account: Account | None, names: Collection[str] | None) -> list[Cluster]:
        """The clusters a listing reads: those named (each must exist, and be one the
        account may use: one it may not is as unknown to it as one that does not exist),
        else every one the account may use."""
        if names is not None:
            unknown = sorted(
                n
                for n in set(names)
                if n not in self.clusters or (account is not None and not account.may_use(n))
            )
            if unknown:
                raise NotFound(
                    f"unknown cluster '{unknown[0]}'", field="cluster", cluster=unknown[0]
                )
        return [
            c
            for name, c in self.clusters.items()
            if (names is None or name in names) and (account is None or account.may_use(name))
        ]

    # operations

    async def call(
        self,
        account: Account,
        cluster: str,
        op: Callable[Concatenate[B, Account, P], Awaitable[T]],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """Run one operation of the contract on the named cluster."""
        return cast(T, await self.cluster(account, cluster).run(op, account, args, kwargs))

    async def fan_out(
        self,
        account: Account,
        clusters: Collection[str] | None,
        op: Callable[Concatenate[B, Account, P], Awaitable[Sequence[T]]],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> Listing[T]:
        """Run a listing on every chosen cluster at once; failures become ``errors``."""
        return await self._gather(account, clusters, op, args, kwargs, stale=False)

    async def fan_out_stale(
        self,
        account: Account,
        clusters: Collection[str] | None,
        op: Callable[Concatenate[B, Account, P], Awaitable[Sequence[T]]],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> Listing[T]:
        """As ``fan_out``, but a cluster that fails contributes what this account's listing
        last found there, and its ``errors`` entry says since when that is stale."""
        return await self._gather(account, clusters, op, args, kwargs, stale=True)

    async def _gather(
        self,
        account: Account,
        clusters: Collection[str] | None,
        op: Callable[..., Awaitable[Sequence[T]]],
        args: tuple[object, ...],
        kwargs: dict[str, object],
        *,
        stale: bool,
    ) -> Listing[T]:
        chosen = self.chosen(account, clusters)
        results = await asyncio.gather(
            *(c.list(op, account, args, kwargs) for c in chosen), return_exceptions=True
        )
        listing: Listing[T] = Listing()
        failures: list[ClusterError] = []
        for cluster, result in zip(chosen, results, strict=True):
            if isinstance(result, ClusterError):
                known = cluster.last_known(op, account) if stale else None
                listing.errors.append(_error_info(cluster, result, known is not None))
                if known is None:
                    failures.append(result)
                else:
                    listing.items.extend(known[0])
                    listing.as_of[cluster.name] = known[1]
            elif isinstance(result, NotSupported):
                continue  # a kind without jobs simply has none to list
            elif isinstance(result, BaseException):
                raise result
            else:
                listing.items.extend(result.items)
                listing.as_of[cluster.name] = result.as_of
                listing.versions[cluster.name] = result.version
        if chosen and len(failures) == len(chosen):
            raise AllClustersFailed(failures)
        return listing

    def held(
        self, account: Account, op: Callable[Concatenate[B, Account, P], Awaitable[Sequence[T]]]
    ) -> tuple[dict[str, Listed], list[str]]:
        """What every cluster the account may use holds now of a cached listing, by cluster
        (``Cluster.held``: no call, no wait), and the clusters that hold nothing current,
        which the caller reads with ``fan_out_stale``: a summary of a thousand clusters
        costs a thousand lookups, not a thousand tasks."""
        held: dict[str, Listed] = {}
        missing: list[str] = []
        for cluster in self.chosen(account, None):
            found = cluster.held(op, account)
            if found is None:
                missing.append(cluster.name)
            else:
                held[cluster.name] = found
        return held, missing

    def known_statuses(self, account: Account) -> list[ClusterStatus]:
        """Each cluster the account may use, from what is known of it: never asked now."""
        return [c.known_status() for c in self.chosen(account, None)]

    async def statuses(self, account: Account | None, *, live: bool = False) -> list[ClusterStatus]:
        """Each cluster the account may use (every one for ``None``): from what is known of
        it, or asked now (``live``)."""
        chosen = self.chosen(account, None)
        return list(await asyncio.gather(*(c.status(live=live) for c in chosen)))

    # assembly and life

    def tell_health(self, hub: EventHub) -> None:
        """Every cluster tells ``hub`` when it goes down and comes back (``cluster`` events),
        those added later too."""
        self._hub = hub
        for cluster in self.clusters.values():
            cluster.tell_health(hub)

    def enable_caches(self, hub: EventHub) -> None:
        for cluster in self.clusters.values():
            cluster.enable_cache(hub)

    def schedule_with(self, make: Callable[[str, str], ScheduledJobsBackend]) -> None:
        """Clusters whose kind has no scheduler get ``make(name, kind)``'s scheduled jobs,
        those added later too."""
        self._scheduler = make
        for cluster in self.clusters.values():
            cluster.schedule_with(make)

    async def start(self) -> None:
        """Begin the backends' background work and the caches; see ``Backend.start``."""
        await asyncio.gather(*(c.start() for c in self.clusters.values()))

    async def close(self) -> None:
        await asyncio.gather(*(c.close() for c in self.clusters.values()))

    # clusters that come and go (registered at run time, ``asgard.registered_clusters``)

    async def add(self, cluster: Cluster) -> None:
        """Serve ``cluster`` from now on, started as those given at first were: it tells
        the hub of its health, gets Asgard's scheduler if its kind has none, and begins
        its background work. A name already served is a ``ValueError``."""
        if cluster.name in self.clusters:
            raise ValueError(f"cluster '{cluster.name}' is served already")
        if self._scheduler is not None:
            cluster.schedule_with(self._scheduler)
        if self._hub is not None:
            cluster.tell_health(self._hub)
        self.clusters = {c.name: c for c in sorted([*self.clusters.values(), cluster], key=_name)}
        await cluster.start()

    async def remove(self, name: str) -> Cluster | None:
        """Stop serving the named cluster: no request finds it from now on; its feed,
        cache, probe and backends are closed. The cluster, or None if none had the name."""
        cluster = self.clusters.get(name)
        if cluster is None:
            return None
        self.clusters = {n: c for n, c in self.clusters.items() if n != name}
        await cluster.close()
        return cluster


def _error_info(cluster: Cluster, error: ClusterError, stale: bool) -> ClusterErrorInfo:
    health = cluster.health
    return ClusterErrorInfo(
        cluster=error.cluster,
        msg=error.msg,
        kind=error.kind,
        stale_since=(health.down_since or utc_now()) if stale else None,
        last_contact_at=health.last_contact_at,
    )


def _name(cluster: Cluster) -> str:
    return cluster.name
