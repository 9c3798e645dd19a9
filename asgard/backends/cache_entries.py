"""What a cluster's cache keeps: per scope (what one kind of account sees of one resource),
an entry of the items last read, and the difference between two reads of a scope told as
``/events`` changes. ``ClusterCache`` (``cache.py``) keeps the entries current."""

from __future__ import annotations

import contextlib
import itertools
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from asgard.backends.feeds import Resource, Signal
from asgard.events import Audience, Event, EventKind, changes
from asgard.models import Account

__all__ = ["KIND_OF", "Entry", "HeldCounts", "Identified", "Loader", "Scope", "diff"]

KIND_OF: dict[Resource, EventKind] = {
    "agents": "agent",
    "apps": "app",
    "tasks": "task",
    "jobs": "job",
}


class Identified(Protocol):
    id: str

    def model_dump(self, *, mode: str = ...) -> dict[str, Any]: ...


Loader = Callable[[Account], Awaitable[Sequence[Any]]]


@dataclass(frozen=True)
class Scope:
    """What one kind of account sees of one resource. Agents depend on the owner (which
    agents) and on the namespace (how many of the account's apps run there)."""

    resource: Resource
    namespace: str
    owner: str | None = None

    @classmethod
    def of(cls, resource: Resource, account: Account) -> Scope:
        owner = account.owner if resource == "agents" else None
        return cls(resource, account.namespace, owner)

    def account(self) -> Account:
        """An account that sees exactly this scope: what the backends are asked with."""
        return Account(id=0, name="cache", namespace=self.namespace, owner=self.owner)

    def audience(self, cluster: str) -> Audience:
        return Audience(
            cluster=cluster,
            namespace=self.namespace,
            owner=self.owner,
            agents=self.resource == "agents",
        )


_VERSIONS = itertools.count(1)


@dataclass
class Entry:
    items: dict[str, Any]
    as_of: datetime
    last_read: float = field(default_factory=time.monotonic)
    dirty: bool = False
    """To be read again whole."""
    version: int = field(default_factory=lambda: next(_VERSIONS))
    """Changes whenever ``items`` or ``as_of`` do, and is never the same for two entries:
    an answer made from entries of these versions can be kept and given again."""
    pending: dict[str, None] = field(default_factory=dict)
    """Ids of items to be read again (when not ``dirty``), in the order they last changed:
    what they became is told in that order, so a listener hears two changes in the order
    they were made even when one pass reads both."""

    writes: int = 0
    """How many writes through Asgard changed the items. A re-read begun before one is
    not applied: it may have been answered before the write was done, and would take the
    write back for a moment (and tell ``/events`` so); the entry is read again instead."""

    def touch(self) -> None:
        self.version = next(_VERSIONS)


class HeldCounts:
    """How many items a cache's entries hold, by resource, each counted once. Apps, tasks
    and jobs are held per namespace, so their scopes never share an item. Agents are held
    per scope of accounts, which share them: a scope of no owner holds every agent, and
    the scopes of one owner the same ones (each agent has one owner), so the agents are the
    largest scope of no owner, or else the largest scope of each owner, summed. Counted
    again only when the cache's generation moved."""

    def __init__(self) -> None:
        self._generation = -1
        self._counts: dict[Resource, int] = {}

    def of(self, entries: Mapping[Scope, Entry], generation: int) -> dict[Resource, int]:
        if generation == self._generation:
            return self._counts
        counts: dict[Resource, int] = {}
        owners: dict[str | None, int] = {}
        for scope, entry in entries.items():
            n = len(entry.items)
            if scope.resource != "agents":
                counts[scope.resource] = counts.get(scope.resource, 0) + n
            elif n > owners.get(scope.owner, -1):
                owners[scope.owner] = n
        if owners:
            counts["agents"] = owners[None] if None in owners else sum(owners.values())
        self._counts, self._generation = counts, generation
        return counts


def diff(
    cluster: str,
    resource: Resource,
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    order: Sequence[str] | None = None,
) -> list[Event]:
    def dumped(items: Mapping[str, Any]) -> dict[str, Any]:
        return {item_id: item.model_dump(mode="json") for item_id, item in items.items()}

    return changes(KIND_OF[resource], cluster, dumped(old), dumped(new), order)


@dataclass
class _Load:
    touched: bool = False
    """A signal touched the scope while it was being read."""


class FirstReads:
    """The scopes being read for the first time (no entry yet), and whether a change was
    told for one meanwhile. A signal has no entry to mark then: it is noted here, and the
    entry made from the read is marked to be read again. Without it, a change told while
    the first read was under way (a container started as the usage sampler first listed
    the agents) would stay unseen until the next signal."""

    def __init__(self) -> None:
        self._loads: dict[Scope, list[_Load]] = {}

    def touch(self, signal: Signal) -> None:
        for scope, loads in self._loads.items():
            if signal.touches(scope.resource, scope.namespace):
                for load in loads:
                    load.touched = True

    @contextlib.asynccontextmanager
    async def of(self, scope: Scope) -> AsyncIterator[Callable[[], bool]]:
        """While the scope is read: yields whether a signal touched it meanwhile."""
        load = _Load()
        self._loads.setdefault(scope, []).append(load)
        try:
            yield lambda: load.touched
        finally:
            loads = self._loads[scope]
            loads.remove(load)
            if not loads:
                del self._loads[scope]
