"""Kubernetes faults a running Asgard must live through, seen as its users see them.

Asgard serves the emulator (over real HTTP, on a port that can go away and come
back) and a second, healthy cluster; a user reads lists, ``/clusters`` and
``/events``. The faults: every watch's version compacted away while the watches
are reopened (410), and the API server process dying and coming back on its port.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from typing import Any

import kmock

from asgard.backends.kubernetes.feed import SHORTEST_WATCH_S, WATCHED
from testbed.kube import ApiServer, Emulator
from tests.conftest import KubeCluster, StartAsgard, kube_that_can_fail
from tests.support.asgard import Caller
from tests.support.kube_controllers import Controllers
from tests.support.watching import Listener, an_operator_listening, eventually

TIMEOUT_S = 3.0
"""The Kubernetes cluster's timeout: no read may take longer than this, and a little."""
BACK_WITHIN_S = 12.0
"""After the API server is back, the feed reconnects by itself within its backoff."""


@dataclass
class Env:
    kube: KubeCluster
    server: ApiServer
    dev: Caller
    events: Listener

    @property
    def api(self) -> Controllers:
        return self.kube.controllers

    async def cluster(self, name: str = "k8s") -> dict[str, Any]:
        clusters = (await self.dev.json("GET", "/clusters"))["clusters"]
        found: dict[str, Any] = next(c for c in clusters if c["name"] == name)
        return found

    async def current(self) -> bool:
        cluster = await self.cluster()
        return bool(cluster["status"] == "ok" and cluster["cache"] == "current")

    async def agents(self) -> list[str]:
        body = await self.dev.json("GET", "/agents?cluster=k8s")
        assert body["errors"] == [], body["errors"]
        return sorted(a["id"] for a in body["agents"])

    async def desired(self, app: str) -> int | None:
        body = await self.dev.json("GET", "/apps?cluster=k8s")
        assert body["errors"] == [], body["errors"]
        found = [a["instances"]["desired"] for a in body["apps"] if a["id"] == app]
        assert len(found) <= 1, f"{app} listed {len(found)} times"
        return found[0] if found else None


@contextlib.asynccontextmanager
async def serving(start_asgard: StartAsgard) -> AsyncIterator[Env]:
    """Asgard over the emulator and a healthy ``lab``; a user listening on /events, the
    app ``web`` made through Asgard, the cache current."""
    async with (
        kube_that_can_fail(start_asgard, timeout_s=TIMEOUT_S) as served,
        an_operator_listening(served.asgard, "k8s") as (dev, listener),
    ):
        env = Env(served.kube, served.server, dev, listener)
        await eventually(env.current, "the cache is current", 10)
        yield env


async def scale_behind_asgards_back(api: Controllers, app: str, replicas: int) -> None:
    await api.call(
        "PATCH", f"/apis/apps/v1/namespaces/dev/deployments/{app}", {"spec": {"replicas": replicas}}
    )


def watches(emulator: Emulator, since: int) -> list[tuple[str, dict[str, str]]]:
    return [(p, q) for _m, p, q in emulator.requests_log[since:] if q.get("watch") == "true"]


async def test_watches_whose_version_expired_relist_once_and_lose_nothing(
    start_asgard: StartAsgard,
) -> None:
    async with serving(start_asgard) as env:
        emulator = env.kube.emulator
        mark, asked = len(env.events.events), len(emulator.requests_log)
        await env.api.call(  # the cluster moves on, past every version the watches saw
            "POST", "/api/v1/namespaces/dev/secrets", {"metadata": {"name": "unrelated"}}
        )
        emulator.compact()
        emulator.end_watches()
        await env.api.add_node("node-3", cpu="8", memory="16Gi")
        await scale_behind_asgards_back(env.api, "web", 3)

        await eventually(
            lambda: _equals(env.desired("web"), 3), "GET /apps shows web scaled to 3", 10
        )
        await eventually(
            lambda: _equals(env.agents(), ["node-1", "node-2", "node-3"]),
            "GET /agents lists node-3",
            10,
        )
        node = await env.events.hears("agent", "node-3", "added", since=mark)
        assert node["object"]["resources"]["cpus"] == 8
        app = await env.events.hears("app", "web", "modified", since=mark)
        assert app["object"]["instances"]["desired"] == 3
        assert await env.current(), await env.cluster()

        seen = env.events.seen(mark)
        assert seen.count(("agent", "node-3", "added")) == 1, seen
        assert set(seen) == {("agent", "node-3", "added"), ("app", "web", "modified")}, (
            "nothing but the two changes: no item lost and added again, none duplicated"
        )

        def relists(path: str) -> int:
            """The feed's lists of the whole resource (their first pages), which fill its store
            anew; not the lists others make with a selector (the output collector's)."""
            return sum(
                1
                for m, p, q in emulator.requests_log[asked:]
                if m == "GET"
                and p == path
                and not {"watch", "continue", "labelSelector"} & q.keys()
            )

        # A watch that had just opened when it was ended waits a second before reopening
        # (SHORTEST_WATCH_S), and other watches' signals may have shown the changes first.
        async def every_watch_relisted() -> bool:
            return all(relists("/" + "/".join(path)) >= 1 for path in WATCHED)

        await eventually(every_watch_relisted, "every watch relisted after its 410", 10)
        await asyncio.sleep(SHORTEST_WATCH_S * 2)  # room for a second relist, if one came
        opened = watches(emulator, asked)
        expired = [p for p, q in opened if int(q.get("resourceVersion") or 0) < 1]
        assert expired == [], f"a watch started from scratch instead of from a version: {expired}"
        for path in ("/" + "/".join(segments) for segments in WATCHED):
            assert relists(path) == 1, f"{path}: relisted {relists(path)} times after one 410"


async def _equals(value: Awaitable[object], expected: object) -> bool:
    return await value == expected


async def test_an_api_server_that_restarts_is_followed_again(start_asgard: StartAsgard) -> None:
    async with serving(start_asgard) as env:
        port = env.server.port
        mark = len(env.events.events)
        await env.server.stop()

        async def refused() -> bool:
            async with asyncio.timeout(TIMEOUT_S + 2):  # never hangs
                response = await env.dev.get("/apps?cluster=k8s")
            return response.status == 502

        await eventually(refused, "GET /apps?cluster=k8s answers 502 while it is down", 10)
        for path in ("/apps?cluster=k8s", "/agents?cluster=k8s", "/clusters/k8s/apps/web"):
            async with asyncio.timeout(TIMEOUT_S + 2):
                response = await env.dev.get(path)
            body = await response.json()
            assert response.status == 502, (path, response.status, body)
            assert [e["cluster"] for e in body["errors"]] == ["k8s"], (path, body)
        async with asyncio.timeout(TIMEOUT_S + 2):
            partial = await env.dev.json("GET", "/agents")
        assert [a["cluster"] for a in partial["agents"]] == ["lab"], "the other cluster answers"
        assert [e["cluster"] for e in partial["errors"]] == ["k8s"]
        down = await env.cluster()
        assert (down["status"], down["cache"]) == ("unreachable", "behind"), down

        async with kmock.Server(env.kube.emulator) as elsewhere:  # another way into the cluster
            other = Controllers(env.kube.emulator, str(elsewhere.url).rstrip("/"), env.api.session)
            await other.add_node("node-3")
            await scale_behind_asgards_back(other, "web", 2)

        await env.server.start()
        assert env.server.port == port, "back on the same port"
        await eventually(env.current, "GET /clusters says k8s is ok and current", BACK_WITHIN_S)
        assert await env.agents() == ["node-1", "node-2", "node-3"]
        assert await env.desired("web") == 2
        await env.events.hears("agent", "node-3", "added", since=mark)
        app = await env.events.hears("app", "web", "modified", since=mark)
        assert app["object"]["instances"]["desired"] == 2

        after = len(env.events.events)
        await env.api.add_node("node-4")
        await env.events.hears("agent", "node-4", "added", since=after)
        await eventually(
            lambda: _equals(env.agents(), ["node-1", "node-2", "node-3", "node-4"]),
            "GET /agents lists node-4",
            5,
        )
        seen = env.events.seen(mark)
        assert seen.count(("agent", "node-3", "added")) == 1, seen
        assert not [s for s in seen if s[2] == "deleted"], f"nothing was deleted: {seen}"
