"""Caches fed by change feeds: reads from memory, changes as events, honest when behind."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from asgard.backends.cluster import Cluster
from asgard.backends.contract import AgentsBackend
from asgard.backends.feeds import Signal
from asgard.backends.orchestrator import Listing, Orchestrator
from asgard.events import QUEUE_LIMIT, Audience, Event, EventHub, Overflow
from asgard.models import Account, Agent
from tests.support.static_backend import StaticAgents, StaticFeed, static_cluster

ALL = Account(id=1, name="all", namespace="all")
TEAM_A = Account(id=2, name="a", namespace="a", owner="team-a")
TEAM_B = Account(id=3, name="b", namespace="b", owner="team-b")


async def eventually(check: Callable[[], Awaitable[bool]] | Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        result = check()
        if await result if asyncio.iscoroutine(result) else result:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never happened: {what}")


@dataclass
class Lab:
    """A cached static cluster, its feed and backend to drive, and the hub it tells."""

    cluster: Cluster
    fleet: Orchestrator
    feed: StaticFeed
    backend: StaticAgents
    hub: EventHub

    async def agents(self, account: Account) -> Listing[Agent]:
        return await self.fleet.fan_out(account, None, AgentsBackend.list_agents)


@pytest.fixture
async def cached() -> AsyncIterator[Lab]:
    cluster = await static_cluster(
        "lab",
        [
            {"id": "a1", "attributes": {"owner": "team-a"}},
            {"id": "b1", "attributes": {"owner": "team-b"}},
        ],
        resync_s=3600,
    )
    hub = EventHub()
    fleet = Orchestrator([cluster])
    fleet.enable_caches(hub)
    await fleet.start()
    cache, feed, backend = cluster.cache, cluster.feed, cluster.parts["agents"]
    assert cache is not None
    assert isinstance(feed, StaticFeed)
    assert isinstance(backend, StaticAgents)
    await eventually(lambda: cache.current, "the cache is current")
    yield Lab(cluster, fleet, feed, backend, hub)
    await fleet.close()


async def test_reads_come_from_memory_once_current(
    cached: Lab,
) -> None:
    lab = cached
    backend = lab.backend
    first = await lab.agents(ALL)
    reads = backend.reads
    for _ in range(20):
        again = await lab.agents(ALL)
    assert backend.reads == reads, "answered from the cache"
    assert [a.id for a in again.items] == [a.id for a in first.items] == ["a1", "b1"]
    assert again.as_of["lab"] == first.as_of["lab"]
    assert [a.id for a in (await lab.agents(TEAM_A)).items] == ["a1"]


async def test_a_change_shows_and_is_sent_to_whom_it_concerns(
    cached: Lab,
) -> None:
    lab = cached
    feed = lab.feed
    backend = lab.backend
    hub = lab.hub
    await lab.agents(TEAM_A)
    await lab.agents(TEAM_B)
    before = (await lab.agents(TEAM_A)).as_of["lab"]
    async with hub.subscribe(TEAM_A) as mine, hub.subscribe(TEAM_B) as theirs:
        backend.config.agents.append({"id": "a2", "attributes": {"owner": "team-a"}})
        feed.emit(Signal(frozenset({"agents"})))
        await eventually(lambda: not mine.queue.empty(), "team a hears of a2")
        event = mine.queue.get_nowait()
        assert event is not None
        assert (event.kind, event.cluster, event.id, event.change) == (
            "agent",
            "lab",
            "a2",
            "added",
        )
        assert event.object is not None
        assert event.object["attributes"] == {"owner": "team-a"}
        assert theirs.queue.empty(), "team b does not hear of team a's agent"
    listing = await lab.agents(TEAM_A)
    assert [a.id for a in listing.items] == ["a1", "a2"]
    assert listing.as_of["lab"] > before


async def test_a_broken_feed_means_live_reads_until_it_is_back(
    cached: Lab,
) -> None:
    lab = cached
    cluster = lab.cluster
    feed = lab.feed
    backend = lab.backend
    cache = cluster.cache
    assert cache is not None
    await lab.agents(ALL)
    assert (await cluster.status()).cache == "current"
    feed.cut()
    await eventually(lambda: not cache.current, "the cache knows it is behind")
    assert (await cluster.status()).cache == "behind", "and says so in /clusters"
    reads = backend.reads
    backend.config.agents.append({"id": "c1"})
    live = await lab.agents(ALL)
    assert backend.reads == reads + 1, "read live"
    assert "c1" in [a.id for a in live.items]
    await eventually(lambda: cache.current, "the feed reconnects and the cache catches up")
    assert (await cluster.status()).cache == "current"
    assert feed.connections == 2
    reads = backend.reads
    assert "c1" in [a.id for a in (await lab.agents(ALL)).items]
    assert backend.reads == reads


async def test_a_feed_that_ends_as_soon_as_it_connects_keeps_backing_off(
    cached: Lab,
) -> None:
    """A proxy that answers the event stream with a page, or closes it at once, must not
    make Asgard reconnect (and re-read everything it holds) every couple of seconds."""
    lab = cached
    cache = lab.cluster.cache
    assert cache is not None
    failures = []
    for connection in range(2, 5):
        lab.feed.cut()
        await eventually(lambda: not cache.current, "the cut is seen")
        failures.append(cache.following.failures)
        cache.following.poke()  # no waiting out the back-off here: only its growth is asked
        await eventually(lambda n=connection: lab.feed.connections == n, "connected again")
    assert failures == [1, 2, 3], "each short connection is one more failure"


async def test_a_reread_answered_before_a_write_never_takes_the_write_back(
    cached: Lab,
) -> None:
    """A re-read the cluster answered just before a delete through Asgard was done
    arrives after it: applied, it would show the deleted item again for a moment and tell
    ``/events`` it was added. The entry is read again instead."""
    lab = cached
    cache = lab.cluster.cache
    assert cache is not None
    await lab.agents(ALL)
    answered, arrive = asyncio.Event(), asyncio.Event()
    loaders = cache.loaders
    prompt = loaders["agents"]

    async def late(account: Account) -> list[Any]:
        items = list(await prompt(account))
        answered.set()
        await arrive.wait()  # the answer is on its way while Asgard deletes
        return items

    cache.loaders = {**loaders, "agents": late}
    async with lab.hub.subscribe(ALL) as listener:
        lab.feed.emit(Signal(frozenset({"agents"})))
        await answered.wait()
        cache.loaders = loaders
        lab.backend.config.agents = [a for a in lab.backend.config.agents if a["id"] != "b1"]
        cache.wrote("agents", ALL, None, deleted="b1")
        assert [a.id for a in (await lab.agents(ALL)).items] == ["a1"], "shown at once"
        arrive.set()
        await eventually(
            lambda: not any(e.dirty for e in cache.entries.values()), "read again since"
        )
        await asyncio.sleep(0.3)  # a re-read applied late would be told by now
        assert [a.id for a in (await lab.agents(ALL)).items] == ["a1"]
        told = []
        while not listener.queue.empty():
            event = listener.queue.get_nowait()
            if event is not None and event.id == "b1":
                told.append(event.change)
    assert told == ["deleted"], "never added back"


async def test_a_failed_reread_makes_the_cache_say_it_is_behind(
    cached: Lab,
) -> None:
    lab = cached
    cluster = lab.cluster
    feed = lab.feed
    backend = lab.backend
    cache = cluster.cache
    assert cache is not None
    await lab.agents(ALL)
    backend.config.down = True
    feed.emit()
    await eventually(lambda: not cache.current, "behind after a failed re-read")
    backend.config.down = False
    feed.emit()
    await eventually(lambda: cache.current, "current again")


async def test_a_slow_subscriber_is_cut_off_and_never_slows_the_others() -> None:
    hub = EventHub()
    audience = Audience(cluster="lab", namespace="all")
    async with hub.subscribe(ALL) as slow, hub.subscribe(ALL) as fast:
        received = 0
        for n in range(QUEUE_LIMIT * 3):
            hub.publish(
                audience,
                [Event(kind="app", cluster="lab", id=f"app{n}", change="added", object={})],
            )
            while not fast.queue.empty():
                fast.queue.get_nowait()
                received += 1
        assert received == QUEUE_LIMIT * 3
        assert slow.overflowed
        assert slow.queue.qsize() == 1, "memory stays bounded: only the overflow marker is left"

    with pytest.raises(Overflow):
        async for _ in slow.events():
            pass


def test_reconnections_back_off_with_jitter() -> None:
    from asgard.backends.cache import RECONNECT_MAX_S, RECONNECT_S, ClusterCache
    from asgard.backends.feeds import PollingFeed

    following = ClusterCache("lab", {}, PollingFeed(1.0), None, resync_s=30).following

    def delays(failures: int) -> list[float]:
        following.failures = failures
        return [following.backoff_s() for _ in range(200)]

    first = delays(1)
    assert all(RECONNECT_S * 0.5 <= d <= RECONNECT_S for d in first)
    assert len({round(d, 3) for d in first}) > 50, "spread, not all at the same instant"
    assert all(RECONNECT_S * 2 <= d <= RECONNECT_S * 4 for d in delays(3)), "doubling"
    assert all(RECONNECT_MAX_S * 0.5 <= d <= RECONNECT_MAX_S for d in delays(50)), "capped"


async def test_a_failed_load_for_a_listener_is_not_served_as_empty(
    cached: Lab,
) -> None:
    lab = cached
    backend = lab.backend
    hub = lab.hub
    backend.config.down = True
    async with hub.subscribe(TEAM_B):  # loads what team b may see: the cluster is down
        backend.config.down = False
        listing = await lab.agents(TEAM_B)
    assert [a.id for a in listing.items] == ["b1"], "read again, not an empty cached list"


async def test_every_change_to_what_the_cache_holds_moves_its_generation(cached: Lab) -> None:
    """What ``/metrics`` gave of a cache is given again until its generation moves: an
    entry made, read again with new items, or let go."""
    cache = cached.cluster.cache
    assert cache is not None
    start = cache.generation
    await cached.agents(ALL)
    await cached.agents(TEAM_A)
    made = cache.generation
    assert made >= start + 2, "two entries made"
    assert cache.held_counts() == {"agents": 2}, "a1 held by both scopes, counted once"
    assert cache.generations["agents"] == made, "only agents moved, per resource too"
    assert cache.generations["apps"] == 0

    cached.backend.config.agents.append({"id": "c1"})
    cached.feed.emit(Signal(frozenset({"agents"})))
    await eventually(lambda: cache.held_counts() == {"agents": 3}, "c1 held")
    assert cache.generation > made

    read_again = cache.generation
    cache.idle_s = 0.0
    cache._evict()  # what the resync does first: entries nobody read for idle_s go
    assert cache.generation > read_again
    assert cache.held_counts() == {}
