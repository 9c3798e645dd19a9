"""Mesos and Marathon faults a running Asgard must live through, seen as its users see them.

Asgard serves the fake masters and Marathons over real HTTP; a user reads and
writes through the API and listens on ``/events``. The faults: the Marathon
leader moves (the old one dies, or stays up and names the new one), and the
leading Mesos master dies while another takes over. A user relies on Marathon
and Mesos being highly available: a move of the leader is no error at all (the
same call goes on to the next instance), and the changes keep coming.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from asgard.events import EventHub
from tests.conftest import MesosCluster, StartAsgard, running_mesos
from tests.support.asgard import Caller
from tests.support.watching import Listener, an_operator_listening, eventually

HOUR = 3600.0
APP = "/clusters/mesos/apps/web"


@dataclass
class Env:
    mesos: MesosCluster
    dev: Caller
    events: Listener

    async def cluster(self) -> dict[str, Any]:
        [cluster] = (await self.dev.json("GET", "/clusters"))["clusters"]
        return dict(cluster)

    async def current(self) -> bool:
        cluster = await self.cluster()
        return bool(cluster["status"] == "ok" and cluster["cache"] == "current")

    async def apps(self) -> dict[str, int]:
        """Each app's desired instances; a read that names an error fails the test."""
        body = await self.dev.json("GET", "/apps")
        assert body["errors"] == [], body["errors"]
        return {a["id"]: a["instances"]["desired"] for a in body["apps"]}

    async def agents(self) -> list[str]:
        body = await self.dev.json("GET", "/agents")
        assert body["errors"] == [], body["errors"]
        return sorted(a["id"] for a in body["agents"])


@contextlib.asynccontextmanager
async def serving(start_asgard: StartAsgard, **config: Any) -> AsyncIterator[Env]:
    """Asgard over the fakes, a user listening on /events, the app ``web`` made through
    Asgard, the cache current. Nothing is re-read on a timer unless ``config`` says so:
    what /events carries comes from the feed."""
    settings: dict[str, Any] = {"poll_s": HOUR, "resync_s": HOUR, **config}
    async with running_mesos(recorded_containers=False, **settings) as mesos:
        hub = EventHub()
        mesos.orchestrator.enable_caches(hub)
        asgard = await start_asgard(mesos.orchestrator, hub=hub)
        async with an_operator_listening(asgard, "mesos") as (dev, listener):
            env = Env(mesos, dev, listener)
            await eventually(env.current, "the cache is current", 10)
            yield env


async def behind_asgards_back(url: str, app_id: str) -> None:
    """Someone deploys on Marathon directly, not through Asgard."""
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{url}/v2/apps", json={"id": app_id, "cmd": "sleep 1000"}) as response,
    ):
        assert response.status == 201, await response.text()


@pytest.mark.parametrize("old_goes_down", [True, False], ids=["old-leader-dies", "steps-down"])
async def test_a_marathon_leader_change_is_no_error_and_events_follow_the_new_leader(
    start_asgard: StartAsgard, old_goes_down: bool
) -> None:
    async with serving(start_asgard) as env:
        marathon = env.mesos.marathon
        mark, received = len(env.events.events), len(marathon.received)

        async def streamed_by_the_new_leader() -> bool:
            return 1 in marathon.streamed_by.values() and await env.current()

        marathon.move_leader(1, old_goes_down=old_goes_down)
        if old_goes_down:
            assert await env.apps() == {"web": 1}, "a read right after the move: no error"
        else:  # nobody reads meanwhile: the feed finds the new leader by itself
            await eventually(streamed_by_the_new_leader, "the stream is on the new leader", 15)
            assert 0 not in marathon.streamed_by.values(), "and not through the old one"

        await env.dev.json("PATCH", APP, json={"instances": 3})
        writes = [(n, p) for n, m, p, _ in marathon.received[received:] if m == "PUT"]
        assert writes == [(1, "/v2/apps/dev/web")], "the write went to the new leader"
        assert marathon.apps["/dev/web"]["instances"] == 3
        scaled = await env.events.hears("app", "web", "modified", since=mark)
        assert scaled["object"]["instances"]["desired"] == 3

        async def answering_and_streamed() -> bool:
            assert await env.apps() == {"web": 3}, "every read meanwhile answers, with no error"
            return await streamed_by_the_new_leader()

        await eventually(answering_and_streamed, "the event stream is on the new leader", 15)
        await behind_asgards_back(marathon.urls[1], "/dev/sideloaded")
        added = await env.events.hears("app", "sideloaded", "added", since=mark)
        assert added["cluster"] == "mesos"
        assert await env.apps() == {"sideloaded": 1, "web": 3}
        seen = env.events.seen(mark)
        assert not [s for s in seen if s[2] == "deleted"], f"nothing was deleted: {seen}"
        assert seen.count(("app", "sideloaded", "added")) == 1, seen


async def test_a_mesos_master_failover_is_no_error(start_asgard: StartAsgard) -> None:
    async with serving(start_asgard, poll_s=0.3) as env:
        masters = env.mesos.mesos
        everyone = await env.agents()
        assert len(everyone) == 8

        masters.misbehaviour[0].down = True  # the leader dies, and another is elected
        masters.leader = 1
        gone = everyone[0]
        del masters.agents[gone]  # and the cluster moves on: an agent left meanwhile
        assert await env.agents() in (everyone, everyone[1:]), "a read right after"

        async def without(agent: str) -> bool:
            return agent not in await env.agents()

        await eventually(lambda: without(gone), "GET /agents reads the new leader", 10)
        for _ in range(10):  # and keeps doing so, poll after poll
            assert await env.agents() == everyone[1:]
        assert any(n == 1 and p == "/master/slaves" for n, p, _ in masters.requests)

        masters.leader = 2  # the next failover: this time the old leader is up and redirects
        assert await env.agents() == everyone[1:]
        [live] = (await env.dev.json("GET", "/clusters?probe=true"))["clusters"]
        assert (live["status"], live["error"]) == ("ok", None), live

        async def asked_the_new_leader() -> bool:
            assert await env.agents() == everyone[1:]
            return any(n == 2 and p == "/master/slaves" for n, p, _ in masters.requests)

        await eventually(asked_the_new_leader, "the agents are read from master 2", 5)
        await eventually(env.current, "GET /clusters says the cache is current", 5)
