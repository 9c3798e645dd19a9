"""One cluster at run time: its kind's parts, under the guard every operation shares.

``Cluster`` is assembled by the core from a ``ClusterConfig`` and the parts a plugin
made, and applies every field of the configuration here, once: the read and write
timeouts, the circuit breaker's retry, the cache's resync and polling. Every operation
of the contract runs through ``run``: reads within ``timeout_s`` and through the
breaker, writes within ``write_timeout_s`` and always tried; a transport failure a
backend let through becomes a typed ``ClusterError`` naming the cluster; a write that
shows or removes an item updates the cache at once. The guard itself, and the health
record it keeps, are ``ClusterGuard``'s (``cluster_guard.py``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Final, NamedTuple, TypeVar

import aiohttp
import structlog

from asgard.backends.breaker import Breaker
from asgard.backends.cache import ClusterCache
from asgard.backends.cache_entries import Loader
from asgard.backends.call_times import CallTimes
from asgard.backends.cluster_guard import ClusterGuard
from asgard.backends.contract import (
    AgentsBackend,
    AppsBackend,
    Backend,
    ClusterParts,
    JobsBackend,
    ScheduledJobsBackend,
)
from asgard.backends.feeds import PollingFeed, Resource
from asgard.backends.health import Health
from asgard.backends.kept_schedules import KeptSchedules
from asgard.backends.operations import OperationInfo, Part, declared, operation_of
from asgard.backends.registry import ClusterConfig
from asgard.backends.safety import admit
from asgard.errors import AsgardError, NotSupported
from asgard.events import EventHub
from asgard.loops import PeriodicLoop
from asgard.models import Account, Capabilities
from asgard.models.base import utc_now
from asgard.models.cluster import REFUSED_AS, ClusterSource

__all__ = ["CONTRACT", "Cluster", "Listed", "cached_listings"]

T = TypeVar("T")
log = structlog.get_logger(__name__)

Found = tuple[list[Any], datetime]
"""What a listing found on one cluster, and when it was read."""
Cached = tuple[list[Any], datetime, int | None]
"""What a cached listing found, when it was read, and its entry's version (None: live)."""


class Listed(NamedTuple):
    """What a listing found on one cluster, when it was read, and the version of the cache
    entry it came from (None for a live read): the same version, the same answer."""

    items: list[Any]
    as_of: datetime
    version: int | None = None


NOTHING_LISTED: Final = Listed([], datetime.fromtimestamp(0, UTC), 0)
"""What a cluster that cannot do a listing holds of it (never changed by its readers)."""

CONTRACT: Mapping[Part, type[Backend]] = {
    "agents": AgentsBackend,
    "apps": AppsBackend,
    "jobs": JobsBackend,
    "scheduled_jobs": ScheduledJobsBackend,
}


def cached_listings() -> dict[Resource, Callable[..., Any]]:
    """The contract's listings that a cache keeps, by the resource each one lists."""
    return {
        info.cached: fn
        for contract in CONTRACT.values()
        for fn, info in declared(contract)
        if info.cached is not None
    }


class Cluster(ClusterGuard):
    """One cluster: its kind's parts under the guard (``ClusterGuard``), its cache, and the
    background work that starts and probes it."""

    def __init__(self, config: ClusterConfig, parts: ClusterParts) -> None:
        self.config = config
        self.name = config.name
        self.kind = config.kind
        self.source: ClusterSource = "file"
        """Where the entry comes from; ``api`` for a cluster registered at run time."""
        self.client = parts.client
        self.feed = parts.feed
        self.items = parts.items
        self.nudges = parts.nudges
        self.capabilities: Capabilities = parts.capabilities.implied()
        if parts.jobs is None:  # no jobs backend: no jobs, whatever the kind says
            self.capabilities = self.capabilities.model_copy(update={"jobs": False}).implied()
        self.parts: dict[Part, Backend] = {
            "agents": parts.agents,
            "apps": parts.apps,
            "jobs": parts.jobs or JobsBackend(self.name, self.kind),
            "scheduled_jobs": parts.scheduled_jobs or KeptSchedules(self.name, self.kind),
        }
        self.timeout_s = config.timeout_s
        self.write_timeout_s = config.write_timeout_s
        self.cache: ClusterCache | None = None
        self.closed = False
        """Removed (or Asgard stopping): a call still under way fails as this cluster's
        error, whatever its client raises once its session is closed."""
        self.health = Health()
        self.calls = CallTimes()
        """How long this cluster's calls took (``guarded``), for ``/metrics``."""
        self.hub: EventHub | None = None
        """Told of this cluster's outages and returns (``tell_health``)."""
        self.known: dict[tuple[str, int], Found] = {}
        """The last answer of each listing, by operation and account: what ``?stale=true``
        shows of this cluster while it is down."""
        self.prober = PeriodicLoop(
            f"probe-{self.name}",
            self._probe_and_start,
            every_s=self._probe_interval_s,
            spread_first=True,  # a fleet started together is not probed all at once
            log_context={"cluster": self.name},
        )
        """Asks the cluster its version in the background (``_probe_interval_s``)."""
        self._unstarted: list[Backend] = []
        """The backends whose ``start`` failed, started again once the cluster answers."""
        self.breaker = Breaker(
            self.name,
            lambda: self.guarded(self.client.version, self.timeout_s, endpoint=True),
            down_after_s=max(10.0, 3 * config.timeout_s),
            retry_s=config.retry_down_s,
            alive=lambda: self.cache is not None and self.cache.connected,
        )
        """Lets reads of this cluster fail at once while it is known to be down."""

    # assembly

    def schedule_with(self, make: Callable[[str, str], ScheduledJobsBackend]) -> None:
        """Give a cluster whose kind has no scheduler Asgard's: ``make(name, kind)``."""
        kept = self.parts["scheduled_jobs"]
        if isinstance(kept, KeptSchedules):
            kept.attach(make(self.name, self.kind))

    def enable_cache(self, hub: EventHub) -> None:
        """Answer cached listings from memory kept current by the feed, and tell ``hub``."""
        loaders: dict[Resource, Loader] = {
            resource: self._loader(op) for resource, op in cached_listings().items()
        }
        self.cache = ClusterCache(
            self.name,
            loaders,
            self.feed or PollingFeed(self.config.poll_s),
            hub,
            resync_s=self.config.resync_s,
            timeout_s=max(self.write_timeout_s, self.timeout_s),
            items=self.items,
        )
        if self.nudges is not None:
            self.nudges.listen(self.cache.signal)

    def _loader(self, op: Callable[..., Any]) -> Loader:
        info = operation_of(op)
        assert info.part is not None
        method = getattr(self.parts[info.part], info.name)

        async def load(account: Account) -> Any:
            return await method(account)

        return load

    # operations

    def admit(self, *specs: Any) -> None:
        """Refuse (422) a spec this cluster's entry forbids: a reserved label, a low host
        port. Every write runs it; ``POST /workflows`` too, for stages that start later."""
        admit(
            specs,
            prefixes=self.config.reserved_label_prefixes,
            allow_low_ports=self.config.allow_low_host_ports,
            cluster=self.name,
        )

    def _capable(self, info: OperationInfo) -> None:
        """Refuse, without asking the kind, what this cluster's capabilities lack."""
        lacking = self.capabilities.lacking(*info.needs)
        if lacking:
            raise NotSupported(self.kind, REFUSED_AS[lacking[0]], cluster=self.name)

    async def run(
        self, op: Callable[..., Any], account: Account, args: tuple[Any, ...], kwargs: Any
    ) -> Any:
        """Run a contract operation on this cluster's part that implements it."""
        info = operation_of(op)
        self._capable(info)
        assert info.part is not None
        method = getattr(self.parts[info.part], info.name)
        if not info.write:
            return await self._read(lambda: method(account, *args, **kwargs))
        self.admit(*args, *kwargs.values())
        result = await self.guarded(
            lambda: method(account, *args, **kwargs), self.write_timeout_s, timed="write"
        )
        self._wrote(info, account, args, result)
        return result

    async def list(
        self, op: Callable[..., Any], account: Account, args: tuple[Any, ...], kwargs: Any
    ) -> Listed:
        """A listing, from the cache where the operation is cached; when it was read."""
        info = operation_of(op)
        self._capable(info)
        cache = self.cache
        version: int | None = None
        if info.cached is None or cache is None or args or kwargs:
            assert info.part is not None
            assert not info.write
            method = getattr(self.parts[info.part], info.name)
            live = await self._read(lambda: method(account, *args, **kwargs), endpoint=True)
            found = list(live), utc_now()
        else:
            items, as_of, version = await self._cached(cache, info.cached, account)
            found = items, as_of
        if not args and not kwargs:
            self.known[(info.name, account.id)] = found
        return Listed(*found, version)

    def held(self, op: Callable[..., Any], account: Account) -> Listed | None:
        """What the cache holds now of this account's listing, without asking the cluster
        or waiting for it: None when it holds nothing current (never read, its feed cut)
        or the cluster is known to be down, where ``list`` says what there is. A kind
        that cannot do the listing holds an empty one (version 0, never an entry's)."""
        info = operation_of(op)
        if self.capabilities.lacking(*info.needs):  # no refusal made: this is asked often
            return NOTHING_LISTED
        if info.cached is None or self.cache is None or self.breaker.open:
            return None
        entry = self.cache.held(info.cached, account)
        if entry is None:
            return None
        return Listed(list(entry.items.values()), entry.as_of, entry.version)

    async def _cached(self, cache: ClusterCache, resource: Resource, account: Account) -> Cached:
        """A cached listing; timed as a call only when it went to the cluster (the cache
        not current, or the scope not held yet): an answer from memory is no call."""
        self.breaker.check()
        started = time.perf_counter()
        live = True
        try:
            found = await self._read(
                lambda: cache.read(resource, account), endpoint=True, timed=None
            )
            live = found[2] is None
            if live:  # the cache listed it for this read, perhaps in a task of its own
                self._answered()
            return found
        except asyncio.CancelledError:
            live = False
            raise
        finally:
            if live:
                self.calls.observe("read", time.perf_counter() - started)

    async def sample(
        self, op: Callable[..., Any], account: Account, timeout_s: float
    ) -> Any | None:
        """A read Asgard makes for its own sampling (the agents' meters), within
        ``timeout_s`` and outside the breaker and the health record: sampling the
        statistics of hundreds of containers may be slow without the cluster being down,
        and whether it answers is what probes and listings already say. None when the
        sample could not be taken."""
        info = operation_of(op)
        assert info.part is not None
        assert not info.write
        method = getattr(self.parts[info.part], info.name)
        try:
            async with asyncio.timeout(timeout_s):
                return await method(account)
        except (AsgardError, TimeoutError, aiohttp.ClientError, OSError) as exc:
            log.debug("sample not taken", cluster=self.name, operation=info.name, error=str(exc))
            return None

    def last_known(self, op: Callable[..., Any], account: Account) -> Found | None:
        """What this account's listing last found here (or the cache holds of its scope),
        and when it was read; None when nothing was ever read."""
        info = operation_of(op)
        known = self.known.get((info.name, account.id))
        if known is None and info.cached is not None and self.cache is not None:
            known = self.cache.last_known(info.cached, account)
        return known

    def _wrote(
        self, info: OperationInfo, account: Account, args: tuple[Any, ...], result: Any
    ) -> None:
        if self.cache is None:
            return
        if info.shows is not None and result is not None:
            self.cache.wrote(info.shows, account, result)
        if info.removes is not None and args:
            self.cache.wrote(info.removes, account, None, deleted=str(args[0]))

    # health

    def _probe_interval_s(self) -> float:
        """Every ``probe_s``; every ``retry_down_s`` while the cluster is down or its feed
        is cut, so that its return is seen within seconds even when nobody reads it."""
        cut = self.cache is not None and not self.cache.connected
        down = self.health.error is not None or cut
        return min(self.config.retry_down_s, self.config.probe_s) if down else self.config.probe_s

    def _outage_began(self) -> None:
        super()._outage_began()
        self.prober.poke()  # its next waits are the short ones (``_probe_interval_s``)

    async def _probe_and_start(self) -> None:
        await self.probe()
        await self._start_the_rest()

    # life

    async def start(self) -> None:
        """Begin the backends' and the cache's background work, and the probe. Whatever
        the cluster answers meanwhile (or not) never stops Asgard's start: the cluster
        is then down, with its reason, until the probe finds it answering; a backend
        that could not start is started again then (see ``_probe_and_start``)."""
        self._unstarted = list(self.parts.values())
        for exc in await self._start_backends():
            self._start_failed(exc)
        if self.cache is not None:
            await self.cache.start()
        await self.prober.start()

    async def _start_backends(self) -> tuple[Exception, ...]:
        """Start each backend not started yet; what the ones that failed raised."""
        failures: list[Exception] = []
        unstarted: list[Backend] = []
        for backend in self._unstarted:
            try:
                await backend.start()
            except Exception as exc:
                failures.append(exc)
                unstarted.append(backend)
        self._unstarted = unstarted
        return tuple(failures)

    async def _start_the_rest(self) -> None:
        """Once the cluster answers: the backends that could not start, again. A failure
        now is logged and tried at the next probe; the cluster's status is the probe's."""
        if not self._unstarted or self.health.error is not None:
            return
        for exc in await self._start_backends():
            reason = exc.msg if isinstance(exc, AsgardError) else f"{type(exc).__name__}: {exc}"
            log.warning(
                "cluster still not started; retried at the next probe",
                cluster=self.name,
                error=reason,
            )
        if not self._unstarted:
            log.info("cluster started", cluster=self.name)

    def _start_failed(self, exc: Exception) -> None:
        reason = exc.msg if isinstance(exc, AsgardError) else f"{type(exc).__name__}: {exc}"
        log.warning(
            "cluster not started; retried in the background",
            cluster=self.name,
            error=reason,
            exc_info=not isinstance(exc, AsgardError),
        )
        self._failed(f"cluster {self.name} could not be started: {reason}")

    async def close(self) -> None:
        self.closed = True
        await self.prober.close()
        await self.breaker.close()
        if self.cache is not None:
            await self.cache.close()
        for backend in self.parts.values():
            await backend.close()
        await self.client.close()
