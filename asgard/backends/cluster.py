"""One cluster at run time: its kind's parts, under the guard every operation shares.

``Cluster`` is assembled by the core from a ``ClusterConfig`` and the parts a plugin
made, and applies every field of the configuration here, once: the read and write
timeouts, the circuit breaker's retry, the cache's resync and polling. Every operation
of the contract runs through ``run``: reads within ``timeout_s`` and through the
breaker, writes within ``write_timeout_s`` and always tried; a transport failure a
backend let through becomes a typed ``ClusterError`` naming the cluster; a write that
shows or removes an item updates the cache at once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any, Literal, TypeVar

import aiohttp

from asgard.backends.breaker import Breaker
from asgard.backends.cache import ClusterCache, Loader
from asgard.backends.contract import (
    AgentsBackend,
    AppsBackend,
    Backend,
    ClusterParts,
    JobsBackend,
    ScheduledJobsBackend,
)
from asgard.backends.feeds import PollingFeed, Resource
from asgard.backends.kept_schedules import KeptSchedules
from asgard.backends.operations import OperationInfo, Part, declared, operation_of
from asgard.backends.registry import ClusterConfig
from asgard.errors import AsgardError, ClusterError, ClusterTimeout, ClusterUnreachable
from asgard.events import EventHub
from asgard.models import Account, Capabilities, ClusterStatus
from asgard.models.base import utc_now

__all__ = ["CONTRACT", "Cluster", "cached_listings"]

T = TypeVar("T")

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


class Cluster:
    def __init__(self, config: ClusterConfig, parts: ClusterParts) -> None:
        self.config = config
        self.name = config.name
        self.kind = config.kind
        self.client = parts.client
        self.feed = parts.feed
        self.capabilities: Capabilities = parts.capabilities
        self.parts: dict[Part, Backend] = {
            "agents": parts.agents,
            "apps": parts.apps,
            "jobs": parts.jobs or JobsBackend(self.name, self.kind),
            "scheduled_jobs": parts.scheduled_jobs or KeptSchedules(self.name, self.kind),
        }
        self.timeout_s = config.timeout_s
        self.write_timeout_s = config.write_timeout_s
        self.cache: ClusterCache | None = None
        self.breaker = Breaker(
            self.name,
            lambda: self.guarded(self.client.version, self.timeout_s),
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
        )

    def _loader(self, op: Callable[..., Any]) -> Loader:
        info = operation_of(op)
        assert info.part is not None
        method = getattr(self.parts[info.part], info.name)

        async def load(account: Account) -> Any:
            return await method(account)

        return load

    # the guard

    async def guarded(self, fn: Callable[[], Awaitable[T]], timeout_s: float) -> T:
        """Run one call within ``timeout_s``, with transport failures typed."""
        try:
            async with asyncio.timeout(timeout_s):
                return await fn()
        except AsgardError:
            raise
        except TimeoutError as exc:
            raise ClusterTimeout(
                self.name, f"cluster {self.name} did not answer in {timeout_s:g} s"
            ) from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise ClusterUnreachable(
                self.name, f"cluster {self.name} is unreachable: {exc}"
            ) from exc

    async def _read(self, fn: Callable[[], Awaitable[T]]) -> T:
        """A read: at once with the last error while the cluster is known to be down."""
        self.breaker.check()
        try:
            result = await self.guarded(fn, self.timeout_s)
        except ClusterError as exc:
            self.breaker.failed(exc)
            raise
        self.breaker.succeeded()
        return result

    async def run(
        self, op: Callable[..., Any], account: Account, args: tuple[Any, ...], kwargs: Any
    ) -> Any:
        """Run a contract operation on this cluster's part that implements it."""
        info = operation_of(op)
        assert info.part is not None
        method = getattr(self.parts[info.part], info.name)
        if not info.write:
            return await self._read(lambda: method(account, *args, **kwargs))
        result = await self.guarded(lambda: method(account, *args, **kwargs), self.write_timeout_s)
        self._wrote(info, account, args, result)
        return result

    async def list(
        self, op: Callable[..., Any], account: Account, args: tuple[Any, ...], kwargs: Any
    ) -> tuple[list[Any], datetime]:
        """A listing, from the cache where the operation is cached; when it was read."""
        info = operation_of(op)
        cache = self.cache
        if info.cached is None or cache is None or args or kwargs:
            items = await self.run(op, account, args, kwargs)
            return list(items), utc_now()
        resource = info.cached
        return await self._read(lambda: cache.read(resource, account))

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

    async def status(self) -> ClusterStatus:
        started = time.perf_counter()
        cache: Literal["current", "behind", "off"] = (
            "off" if self.cache is None else "current" if self.cache.current else "behind"
        )
        try:
            version = await self.guarded(self.client.version, self.timeout_s)
        except ClusterError as exc:
            self.breaker.failed(exc)
            return ClusterStatus(
                name=self.name,
                kind=self.kind,
                status="unreachable",
                error=exc.msg,
                cache="off" if cache == "off" else "behind",  # nothing new can reach it
                capabilities=self.capabilities,
            )
        self.breaker.succeeded()
        return ClusterStatus(
            name=self.name,
            kind=self.kind,
            status="ok",
            version=version,
            latency_ms=round((time.perf_counter() - started) * 1000, 2),
            cache=cache,
            capabilities=self.capabilities,
        )

    # life

    async def start(self) -> None:
        for backend in self.parts.values():
            await backend.start()
        if self.cache is not None:
            await self.cache.start()

    async def close(self) -> None:
        await self.breaker.close()
        if self.cache is not None:
            await self.cache.close()
        for backend in self.parts.values():
            await backend.close()
        await self.client.close()
