"""Caches of a Mesos cluster: Marathon's event stream where offered, polling otherwise."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable

import aiohttp

from asgard.backends.contract import AppsBackend
from asgard.backends.mesos.feed import MesosFeed
from asgard.events import Event, EventHub
from asgard.models import Account
from tests.conftest import MesosCluster, running_mesos

DEV = Account(id=1, name="dev", namespace="dev")
HOUR = 3600.0


async def eventually(check: Callable[[], object], what: str, limit_s: float = 10) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never happened: {what}")


@contextlib.asynccontextmanager
async def cached(**config: object) -> AsyncIterator[tuple[MesosCluster, EventHub]]:
    async with running_mesos(recorded_containers=False, **config) as mesos:
        hub = EventHub()
        mesos.orchestrator.enable_caches(hub)
        await mesos.orchestrator.start()
        cache = mesos.cluster.cache
        assert cache is not None
        await eventually(lambda: cache.current, "the cache is current")
        yield mesos, hub


async def behind_asgards_back(mesos: MesosCluster, app_id: str) -> None:
    """Someone deploys on Marathon directly, not through Asgard."""
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{mesos.marathon.urls[0]}/v2/apps",
            json={"id": app_id, "cmd": "sleep 1000", "instances": 1},
        ) as response,
    ):
        assert response.status == 201


async def app_ids(mesos: MesosCluster) -> list[str]:
    return [
        a.id for a in (await mesos.orchestrator.fan_out(DEV, None, AppsBackend.list_apps)).items
    ]


async def test_marathon_events_update_the_cache_long_before_a_poll() -> None:
    async with cached(poll_s=HOUR, resync_s=HOUR) as (mesos, hub):
        feed = mesos.cluster.feed
        assert isinstance(feed, MesosFeed)
        await eventually(lambda: feed.streaming, "the feed follows /v2/events")
        before = await app_ids(mesos)
        reads = len([r for r in mesos.marathon.received if r[2] == "/v2/apps"])
        assert await app_ids(mesos) == before
        assert len([r for r in mesos.marathon.received if r[2] == "/v2/apps"]) == reads, (
            "lists come from memory"
        )
        async with hub.subscribe(DEV) as mine:
            await behind_asgards_back(mesos, "/dev/sideloaded")

            async def seen() -> bool:
                return "sideloaded" in await app_ids(mesos)

            await eventually(seen, "the app deployed behind Asgard's back is listed")
            events: list[Event] = []
            while not mine.queue.empty():
                event = mine.queue.get_nowait()
                assert event is not None
                events.append(event)
            assert ("app", "sideloaded", "added") in [(e.kind, e.id, e.change) for e in events]

        await behind_asgards_back(mesos, "/other/not-ours")
        await asyncio.sleep(0.5)
        assert "not-ours" not in " ".join(await app_ids(mesos)), "another namespace's app"


async def test_a_cut_event_stream_is_followed_again() -> None:
    async with cached(poll_s=HOUR, resync_s=HOUR) as (mesos, _hub):
        feed = mesos.cluster.feed
        cache = mesos.cluster.cache
        assert isinstance(feed, MesosFeed)
        assert cache is not None
        await eventually(lambda: feed.streaming, "the feed follows /v2/events")
        await app_ids(mesos)
        mesos.marathon.cut_event_streams()
        await eventually(lambda: not feed.streaming, "the feed noticed")
        await eventually(lambda: feed.streaming and cache.current, "and reconnected", 15)
        await behind_asgards_back(mesos, "/dev/after-the-cut")

        async def seen() -> bool:
            return "after-the-cut" in await app_ids(mesos)

        await eventually(seen, "a change after the reconnection is listed")


async def test_without_an_event_stream_marathon_is_polled() -> None:
    async with running_mesos(recorded_containers=False, poll_s=0.3, resync_s=HOUR) as mesos:
        mesos.marathon.events_enabled = False
        mesos.orchestrator.enable_caches(EventHub())
        await mesos.orchestrator.start()
        feed, cache = mesos.cluster.feed, mesos.cluster.cache
        assert isinstance(feed, MesosFeed)
        assert cache is not None
        await eventually(lambda: cache.current, "the cache is current")
        assert not feed.streaming
        await app_ids(mesos)
        await behind_asgards_back(mesos, "/dev/polled")

        async def seen() -> bool:
            return "polled" in await app_ids(mesos)

        await eventually(seen, "the poll finds the new app")
