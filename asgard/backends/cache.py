"""Per cluster, what its accounts last read, kept current by the cluster's change feed.

Reads are answered from memory once the feed is connected and the first read of
a scope is in (``as_of`` says how old the answer is). A scope is what one
account may see of one resource: the agents of an owner, the apps, tasks or
jobs of a namespace. When the feed signals a change, the scopes it touches are
read again, in the background and coalesced; the difference between the old
and the new lists is what ``/events`` sends. A kind opts in to deltas by giving an
``ItemReader``: a signal that names the items it changed (``Signal.ids``) then has
those items alone read again, in every scope it touches, and the difference is
told for them alone, which is the same difference a whole re-read would find. A
write through Asgard updates its scope at once. When the feed breaks, or a re-read
fails, the cache says it is not current and reads go to the cluster until it is again.
What a scope and its entry are, and how two reads of one are told apart, is
``cache_entries.py``; what an ``/events`` listener needs loaded first, ``cache_listeners.py``.

Its three background tasks are ``PeriodicLoop``s, with their error policy: following
the feed (a step that lasts as long as the feed does, and whose end is a failure to
back off from before reconnecting), re-reading what signals touched (when poked,
coalesced), and the periodic resync.
"""

from __future__ import annotations

import asyncio
import functools
import math
import random
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import structlog

from asgard.backends.cache_entries import (
    Entry,
    FirstReads,
    HeldCounts,
    Identified,
    Loader,
    Scope,
    diff,
)
from asgard.backends.cache_listeners import listener_interest
from asgard.backends.feeds import (
    FEED_FAILURES,
    RESOURCES,
    ClusterFeed,
    FeedEnded,
    ItemReader,
    NotCurrent,
    Resource,
    Signal,
)
from asgard.errors import AsgardError, NotSupported
from asgard.events import EventHub
from asgard.loops import PeriodicLoop
from asgard.models import Account
from asgard.models.base import utc_now

log = structlog.get_logger(__name__)

COALESCE_S = 0.2
RECONNECT_S = 2.0
RECONNECT_MAX_S = 60.0
STEADY_S = 30.0
"""How long a feed must have stayed connected for its end to be a new break, backed off
from the start again. One that ends sooner (a proxy answering the event stream with a
page, a server closing every stream at once) keeps backing off: reconnecting costs a
re-read of everything the cache holds."""
REFRESH_CONCURRENCY = 4


class ClusterCache:
    def __init__(
        self,
        cluster: str,
        loaders: Mapping[Resource, Loader],
        feed: ClusterFeed,
        hub: EventHub | None,
        *,
        resync_s: float,
        idle_s: float = 600.0,
        timeout_s: float = 60.0,
        items: ItemReader | None = None,
    ) -> None:
        self.cluster = cluster
        self.loaders = loaders
        self.feed = feed
        self.items = items
        self.hub = hub
        self.resync_s = resync_s
        self.idle_s = idle_s
        self.timeout_s = timeout_s
        self.entries: dict[Scope, Entry] = {}
        self.generation = 0
        """Goes up whenever an entry is made, changed or let go (and ``generations``, per
        resource): what has not moved since a scrape holds what it held then (``/metrics``)."""
        self.generations: dict[Resource, int] = dict.fromkeys(RESOURCES, 0)
        self.pinned: dict[Scope, int] = {}
        self.current = False
        """True while the feed is connected and the last re-read worked."""
        self._connected = False
        self.reconnects = 0
        """How many times the feed connected again after its first connection (a break,
        then a return): for ``/metrics``."""
        self._ever_connected = False
        self._counted = HeldCounts()
        self.loading = FirstReads()
        """Scopes being read for a first entry, and whether a signal touched them meanwhile."""
        self.following, self.refreshing, self.resyncing = self._loops(cluster)
        if hub is not None:
            hub.on_interest(functools.partial(listener_interest, self))

    def _loops(self, cluster: str) -> tuple[PeriodicLoop, PeriodicLoop, PeriodicLoop]:
        """Following the feed, re-reading what signals touched, and the periodic resync."""
        context = {"cluster": cluster}
        # Feeds broken together (one overloaded moment, a network blip) come back at
        # jittered times, not in the same instant to break it again.
        following = PeriodicLoop(
            f"feed-{cluster}",
            self._follow_feed,
            every_s=0.0,  # never used: the step only ends by failing
            first_backoff_s=RECONNECT_S,
            max_backoff_s=RECONNECT_MAX_S,
            expected=FEED_FAILURES,
            log_context=context,
        )
        refreshing = PeriodicLoop(
            f"cache-{cluster}",
            self._refresh,
            every_s=math.inf,  # when poked: a signal, a read that missed one
            wait_first=True,
            coalesce_s=COALESCE_S,  # a burst of signals becomes one re-read
            log_context=context,
        )
        resyncing = PeriodicLoop(
            f"resync-{cluster}",
            self._resync,
            # Spread: fifty caches started together must not re-read fifty clusters together.
            every_s=lambda: self.resync_s * random.uniform(0.8, 1.2),
            wait_first=True,
            log_context=context,
        )
        return following, refreshing, resyncing

    @property
    def connected(self) -> bool:
        """Whether the change feed is connected now: the cluster is alive, if slow."""
        return self._connected

    # reads and writes

    async def read(
        self, resource: Resource, account: Account
    ) -> tuple[list[Any], datetime, int | None]:
        """The scope's items, when they were read, and the entry's version when they come
        from it (None for a read that went to the cluster)."""
        scope = Scope.of(resource, account)
        entry = self.entries.get(scope)
        if entry is not None and self.current:
            entry.last_read = time.monotonic()
            return list(entry.items.values()), entry.as_of, entry.version
        async with self.loading.of(scope) as changed:
            items = list(await self.loaders[resource](scope.account()))
        read_at = utc_now()
        if entry is None or self.current:
            fresh = Entry(items={i.id: i for i in items}, as_of=read_at, dirty=changed())
            if entry is not None:
                self._publish(scope, entry.items, fresh.items)
            self.entries[scope] = fresh
            self.moved(scope)
            if fresh.dirty:
                self.refreshing.poke()
        return items, read_at, None

    def held(self, resource: Resource, account: Account) -> Entry | None:
        """The scope's entry when it is current, without reading anything: what a summary
        of every cluster asks, so that it never waits on one. Counts as a read (the entry
        is not let go while someone looks at it)."""
        entry = self.entries.get(Scope.of(resource, account))
        if entry is None or not self.current:
            return None
        entry.last_read = time.monotonic()
        return entry

    def last_known(self, resource: Resource, account: Account) -> tuple[list[Any], datetime] | None:
        """What the scope held when it was last read, current or not (``?stale=true``)."""
        entry = self.entries.get(Scope.of(resource, account))
        return None if entry is None else (list(entry.items.values()), entry.as_of)

    def entries_held(self) -> Mapping[Scope, Entry]:
        """Every entry, current or not, to be read and not kept (``/metrics``)."""
        return self.entries

    def held_counts(self) -> dict[Resource, int]:
        """How many items the cache holds, by resource, each counted once (``HeldCounts``);
        counted again only when an entry changed."""
        return self._counted.of(self.entries, self.generation)

    def moved(self, scope: Scope) -> None:
        """An entry was made, changed or let go: what ``/metrics`` counts."""
        self.generation += 1
        self.generations[scope.resource] += 1

    def wrote(
        self,
        resource: Resource,
        account: Account,
        item: Identified | None,
        deleted: str | None = None,
    ) -> None:
        """Asgard changed something: show it at once, then confirm with a re-read. A kind
        that updates by deltas is not read again: its feed tells of the change itself, and
        what it holds may not have heard of it yet (a re-read from there could take the
        change back for a moment, and ``/events`` would say so)."""
        scope = Scope.of(resource, account)
        entry = self.entries.get(scope)
        if entry is not None:
            touched = {i for i in (getattr(item, "id", None), deleted) if i is not None}
            before = {i: entry.items[i] for i in touched if i in entry.items}
            if item is not None:
                entry.items[item.id] = item
            if deleted is not None:
                entry.items.pop(deleted, None)
            entry.writes += 1
            entry.touch()
            self.moved(scope)
            self._publish(scope, before, {i: entry.items[i] for i in touched if i in entry.items})
        if self.items is None:
            self.signal(Signal(frozenset({resource, "agents", "tasks"}), account.namespace))

    def reconnect_now(self) -> None:
        """The cluster answers again: a feed waiting out its back-off tries at once."""
        if not self._connected:
            self.following.poke()

    def signal(self, signal: Signal) -> None:
        self.loading.touch(signal)
        for scope, entry in self.entries.items():
            if signal.touches(scope.resource, scope.namespace):
                ids = signal.ids.get(scope.resource)
                if ids is None or self.items is None:
                    entry.dirty = True
                elif not entry.dirty:
                    for item_id in sorted(ids):  # one signal's ids changed together
                        entry.pending.pop(item_id, None)
                        entry.pending[item_id] = None
        self.refreshing.poke()

    # background

    async def start(self) -> None:
        for loop in (self.following, self.refreshing, self.resyncing):
            await loop.start()

    async def close(self) -> None:
        for loop in (self.following, self.refreshing, self.resyncing):
            await loop.close()

    async def _follow_feed(self) -> None:
        """Follow the feed until it breaks or ends, catching up with what was missed each
        time it connects; while it is cut, reads go to the cluster directly."""
        connected_at: float | None = None
        try:
            async for signal in self.feed.signals():
                if not self._connected:
                    self._connected = True
                    connected_at = time.monotonic()
                    if self._ever_connected:
                        self.reconnects += 1
                    self._ever_connected = True
                    self.signal(Signal.everything())  # catch up with what was missed
                    await self._refresh()
                    log.info("change feed connected", current=self.current)
                self.signal(signal)
        finally:
            self._connected = self.current = False
            if connected_at is not None and time.monotonic() - connected_at >= STEADY_S:
                self.following.recovered()
        raise FeedEnded("the change feed ended; reading the cluster directly until it is back")

    async def _resync(self) -> None:
        self._evict()
        self.signal(Signal.everything())

    def _evict(self) -> None:
        if not self._connected:
            return  # while the cluster is away, what was last seen is all there is to show
        now = time.monotonic()
        for scope in [s for s, e in self.entries.items() if now - e.last_read > self.idle_s]:
            if not self.pinned.get(scope):
                del self.entries[scope]
                self.moved(scope)

    async def _refresh(self) -> None:
        """Read the dirty scopes again (or their pending items); the cache is current only
        if every re-read worked."""
        gate = asyncio.Semaphore(REFRESH_CONCURRENCY)
        due = [s for s, e in self.entries.items() if e.dirty or e.pending]

        async def one(scope: Scope) -> bool:
            entry = self.entries.get(scope)
            if entry is None:
                return True  # let go meanwhile
            whole, ids, writes = entry.dirty, entry.pending, entry.writes
            # Taken before reading: a change signalled meanwhile is read again next time.
            entry.dirty, entry.pending = False, {}
            async with gate:
                try:
                    async with asyncio.timeout(self.timeout_s):
                        if not whole and await self._patch(scope, list(ids), writes):
                            return True
                        items = await self.loaders[scope.resource](scope.account())
                except NotSupported:
                    items = []
                except (AsgardError, TimeoutError, OSError) as exc:
                    log.warning(
                        "cache re-read failed",
                        resource=scope.resource,
                        error=getattr(exc, "msg", str(exc)),
                    )
                    if scope in self.entries:
                        self.entries[scope].dirty = True
                    return False
            kept = self.entries.get(scope)
            if kept is None:
                return True
            if kept.writes != writes:
                self._read_again(kept)
                return True
            fresh = {i.id: i for i in items}
            self._publish(scope, kept.items, fresh)
            kept.items, kept.as_of = fresh, utc_now()
            kept.touch()
            self.moved(scope)
            return True

        results = await asyncio.gather(*(one(s) for s in due))
        self.current = self._connected and all(results)

    def _read_again(self, entry: Entry) -> None:
        """A write through Asgard changed the entry while it was being read: what was read
        may predate the write. Read it whole once more, rather than take the write back."""
        entry.dirty = True
        self.refreshing.poke()

    async def _patch(self, scope: Scope, ids: Sequence[str], writes: int) -> bool:
        """Read only ``ids`` of the scope again, and tell what became of them; False when
        the kind cannot tell them now (the scope is then read whole). ``writes``: the
        entry's count of writes when the read began."""
        assert self.items is not None
        try:
            read = await self.items.read_items(scope.resource, scope.account(), frozenset(ids))
        except NotCurrent:
            return False
        entry = self.entries.get(scope)
        if entry is None:
            return True
        if entry.writes != writes:
            self._read_again(entry)
            return True
        found = {i: read[i] for i in ids if i in read}
        before = {i: entry.items[i] for i in ids if i in entry.items}
        self._publish(scope, before, found, ids)
        for item_id in ids:
            if item_id in found:
                entry.items[item_id] = found[item_id]
            else:
                entry.items.pop(item_id, None)
        entry.as_of = utc_now()
        entry.touch()
        self.moved(scope)
        return True

    def _publish(
        self,
        scope: Scope,
        old: Mapping[str, Any],
        new: Mapping[str, Any],
        order: Sequence[str] | None = None,
    ) -> None:
        if self.hub is not None:
            self.hub.publish(
                scope.audience(self.cluster), diff(self.cluster, scope.resource, old, new, order)
            )
