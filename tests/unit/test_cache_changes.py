"""What the cache makes of the signals its feed sends.

A change told while a scope is first read is not lost: the cache makes a scope's entry
from its first read, and a signal that arrives while that read is under way has no entry
to mark; the entry the read makes must still be read again, or it keeps what the cluster
was before the change until some later signal (seen as a Docker engine's agent showing
nothing allocated while a container ran). The cluster here is a list in memory behind a
loader that can be held mid-read, and the feed is a
queue of signals: what is under test is the cache itself.

And items a feed names are told to ``/events`` listeners in the order they changed, even
when one pass of the cache reads several of them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

from asgard.backends.cache import ClusterCache
from asgard.backends.feeds import ClusterFeed, ItemReader, Resource, Signal
from asgard.events import EventHub
from asgard.models import Account, Agent, Resources
from tests.support.watching import eventually

DEV = Account(id=1, name="dev", namespace="dev")


class QueuedFeed(ClusterFeed):
    def __init__(self) -> None:
        self.queue: asyncio.Queue[Signal] = asyncio.Queue()

    async def signals(self) -> AsyncIterator[Signal]:
        while True:
            yield await self.queue.get()


class HeldCluster:
    """One agent whose allocated memory is ``mem``; a read can be held after it has
    looked and before it answers, as a slow listing is."""

    def __init__(self) -> None:
        self.mem = 0.0
        self.hold: asyncio.Event | None = None
        self.held = asyncio.Event()

    async def agents(self, account: Account) -> Sequence[Agent]:
        seen = self.mem
        if self.hold is not None:
            self.held.set()
            await self.hold.wait()
        return [agent("a1", seen)]


def agent(agent_id: str, mem: float = 0.0) -> Agent:
    return Agent(
        id=agent_id,
        cluster="c",
        type="DOCKER",
        hostname=agent_id,
        active=True,
        used_resources=Resources(mem=mem),
    )


class Agents(ItemReader):
    """Agents by id, read whole or by the ids a signal names."""

    def __init__(self) -> None:
        self.agents: dict[str, Agent] = {}

    async def listing(self, account: Account) -> Sequence[Agent]:
        return list(self.agents.values())

    async def read_items(
        self, resource: Resource, account: Account, ids: frozenset[str]
    ) -> dict[str, Any]:
        return {i: self.agents[i] for i in ids if i in self.agents}


async def nothing(account: Account) -> Sequence[Any]:
    return []


async def cache_over(
    cluster: HeldCluster | Agents, feed: QueuedFeed, hub: EventHub | None = None
) -> ClusterCache:
    loaders: dict[Resource, Any] = {"apps": nothing, "tasks": nothing, "jobs": nothing}
    if isinstance(cluster, Agents):
        loaders["agents"], items = cluster.listing, cluster
    else:
        loaders["agents"], items = cluster.agents, None
    cache = ClusterCache("c", loaders, feed, hub, resync_s=3600, items=items)
    await cache.start()
    await feed.queue.put(Signal.everything())  # the feed connects: the cache is current

    async def current() -> bool:
        return cache.current

    await eventually(current, "the cache is current", 5)
    return cache


async def used_mem(cache: ClusterCache) -> float:
    [agent], _, _ = await cache.read("agents", DEV)
    return float(agent.used_resources.mem)


async def test_a_change_signalled_during_the_first_read_is_read_again() -> None:
    cluster, feed = HeldCluster(), QueuedFeed()
    cache = await cache_over(cluster, feed)
    try:
        cluster.hold = asyncio.Event()
        first = asyncio.create_task(used_mem(cache))
        await cluster.held.wait()  # the read has looked: nothing allocated yet
        cluster.mem = 64.0  # a container starts, and the feed tells of it
        await feed.queue.put(Signal(frozenset({"agents"})))
        await asyncio.sleep(0.05)  # the signal is handled while the read is held
        cluster.hold.set()
        assert await first == 0.0, "the first read answers what it saw"

        async def caught_up() -> bool:
            return await used_mem(cache) == 64.0

        await eventually(caught_up, "the entry is read again after the change", 5)
    finally:
        await cache.close()


async def test_a_first_read_with_no_change_meanwhile_is_not_read_again() -> None:
    cluster, feed = HeldCluster(), QueuedFeed()
    cache = await cache_over(cluster, feed)
    try:
        assert await used_mem(cache) == 0.0
        [entry] = cache.entries.values()
        assert not entry.dirty
        assert not entry.pending
        cluster.mem = 64.0  # changed with no signal: the cache keeps what it read
        await asyncio.sleep(0.3)
        assert await used_mem(cache) == 0.0
    finally:
        await cache.close()


async def test_items_read_in_one_pass_are_told_in_the_order_they_changed() -> None:
    cluster, feed, hub = Agents(), QueuedFeed(), EventHub()
    cache = await cache_over(cluster, feed, hub)
    try:
        async with hub.subscribe(DEV) as listener:  # loads the scope first
            for name in ("n9", "n1", "n5"):  # in no sorted order, and fast: one pass
                cluster.agents[name] = agent(name)
                await feed.queue.put(
                    Signal(frozenset({"agents"}), ids={"agents": frozenset({name})})
                )
            del cluster.agents["n9"]
            await feed.queue.put(Signal(frozenset({"agents"}), ids={"agents": frozenset({"n9"})}))
            cluster.agents["n9"] = agent("n9", 1.0)
            await feed.queue.put(Signal(frozenset({"agents"}), ids={"agents": frozenset({"n9"})}))
            heard = [await asyncio.wait_for(listener.queue.get(), 5) for _ in range(3)]
        assert [(e.id, e.change) for e in heard if e is not None] == [
            ("n1", "added"),
            ("n5", "added"),
            ("n9", "added"),
        ], "each as it last changed, in that order"
    finally:
        await cache.close()
