"""A change told while a scope is first read is not lost.

The cache makes a scope's entry from its first read. A signal that arrives while that
read is under way has no entry to mark; the entry it makes must still be read again,
or it keeps what the cluster was before the change until some later signal (seen as a
Docker engine's agent showing nothing allocated while a container ran). The cluster
here is a list in memory behind a loader that can be held mid-read, and the feed is a
queue of signals: what is under test is the cache itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

from asgard.backends.cache import ClusterCache
from asgard.backends.feeds import ClusterFeed, Signal
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
        return [
            Agent(
                id="a1",
                cluster="c",
                type="DOCKER",
                hostname="a1",
                active=True,
                used_resources=Resources(mem=seen),
            )
        ]


async def cache_over(cluster: HeldCluster, feed: QueuedFeed) -> ClusterCache:
    cache = ClusterCache("c", {"agents": cluster.agents}, feed, None, resync_s=3600)
    await cache.start()
    await feed.queue.put(Signal.everything())  # the feed connects: the cache is current

    async def current() -> bool:
        return cache.current

    await eventually(current, "the cache is current", 5)
    return cache


async def used_mem(cache: ClusterCache) -> float:
    [agent], _ = await cache.read("agents", DEV)
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
