"""What a dashboard needs of the API: last-known lists (``?stale=true``), ``/events`` that
resume where a client left off and filter, and each agent's usage history.

Against the Kubernetes emulator on a port that can go away and come back, and a second,
healthy cluster, under an Asgard on a real socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import kmock

from asgard.models import Role
from testbed.kube import ApiServer
from tests.conftest import KubeCluster, StartAsgard, kube_that_can_fail
from tests.support.asgard import AsgardUnderTest, Caller
from tests.support.sse import Frame, frames
from tests.support.watching import eventually


@dataclass
class Env:
    kube: KubeCluster
    server: ApiServer
    asgard: AsgardUnderTest
    dev: Caller


@contextlib.asynccontextmanager
async def serving(start_asgard: StartAsgard, **settings: Any) -> AsyncIterator[Env]:
    async with kube_that_can_fail(start_asgard, **settings) as served:
        account = await served.asgard.account("dev")
        dev = await served.asgard.caller("dev@example.com", roles={account.id: Role.OPERATOR})
        yield Env(served.kube, served.server, served.asgard, dev)


def parsed(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


# ?stale=true


async def test_a_cluster_that_is_down_lists_what_was_last_seen_with_stale(
    start_asgard: StartAsgard,
) -> None:
    async with serving(start_asgard) as env:
        dev = env.dev
        before = await dev.json("GET", "/agents")
        assert sorted(a["id"] for a in before["agents"]) == ["a1", "node-1", "node-2"]
        assert before["errors"] == []
        await dev.json("GET", "/agents?cluster=k8s&stale=true")  # the k8s-only listing too
        read_at = parsed(before["as_of"]["k8s"])

        await env.server.stop()

        async def k8s_failed() -> bool:
            body = await dev.json("GET", "/agents")
            return [e["cluster"] for e in body["errors"]] == ["k8s"]

        await eventually(k8s_failed, "the k8s cluster is seen down", 15)
        current = await dev.json("GET", "/agents")
        assert [a["id"] for a in current["agents"]] == ["a1"], "without stale: only what answers"
        assert current["errors"][0]["stale_since"] is None
        assert "k8s" not in current["as_of"]

        stale = await dev.json("GET", "/agents?stale=true")
        assert sorted(a["id"] for a in stale["agents"]) == ["a1", "node-1", "node-2"]
        assert stale["total"] == 3
        (error,) = stale["errors"]
        assert error["cluster"] == "k8s"
        assert error["kind"] in ("unreachable", "timeout")
        since = parsed(error["stale_since"])
        last_contact = parsed(error["last_contact_at"])
        assert read_at <= since, "stale since after it was read"
        assert last_contact <= since
        assert parsed(stale["as_of"]["k8s"]) <= since, "as_of says how old the k8s part is"
        assert stale["stats"]["cpu_pct"] is not None

        # every cluster of the read down: 502 as before, but with stale the last-known part
        alone = await dev.request("GET", "/agents?cluster=k8s")
        assert alone.status == 502
        only = await dev.json("GET", "/agents?cluster=k8s&stale=true")
        assert sorted(a["id"] for a in only["agents"]) == ["node-1", "node-2"]
        assert only["errors"][0]["stale_since"] == error["stale_since"]

        apps = await dev.json("GET", "/apps?stale=true")  # a list never read: nothing to show
        assert apps["apps"] == []
        assert apps["errors"][0]["stale_since"] is None

        await env.server.start()

        async def recovered() -> bool:
            body = await dev.json("GET", "/agents?stale=true")
            return body["errors"] == [] and len(body["agents"]) == 3

        await eventually(recovered, "the k8s cluster answers again", 20)
        fresh = await dev.json("GET", "/agents?stale=true")
        assert parsed(fresh["as_of"]["k8s"]) > since


# resumable, filtered /events


async def read_frames(
    dev: Caller,
    path: str,
    until: int,
    headers: dict[str, str] | None = None,
    total_s: float = 20,
) -> list[Frame]:
    """The first ``until`` frames that are events or notices (comments skipped)."""
    found: list[Frame] = []
    response = await dev.get(path, headers=headers, timeout=aiohttp.ClientTimeout(total=total_s))
    try:
        assert response.status == 200, await response.text()
        async for frame in frames(response):
            if frame.event is not None:
                found.append(frame)
                if len(found) >= until:
                    break
    finally:
        response.close()
    return found


async def test_a_cluster_going_down_and_coming_back_is_told_on_events(
    start_asgard: StartAsgard,
) -> None:
    """To every account that may use it: a ``cluster`` event with its status, at the first
    failure and at the first answer after it, so that an open page redraws at once."""
    async with serving(start_asgard) as env:
        other = await env.asgard.account("other")  # another namespace, the same clusters
        ops = await env.asgard.caller("ops@example.com", roles={other.id: Role.VIEWER})
        await env.dev.json("GET", "/agents")
        listeners = [
            asyncio.create_task(read_frames(caller, "/events?kind=cluster", 2, total_s=40))
            for caller in (env.dev, ops)
        ]
        await asyncio.sleep(0.5)  # both streams open
        await env.server.stop()
        await eventually(lambda: _k8s_down(env.dev), "the k8s cluster is seen down", 15)
        await env.server.start()
        for told in await asyncio.wait_for(asyncio.gather(*listeners), 30):
            assert [f.event for f in told] == ["cluster", "cluster"]
            down, back = (f.data for f in told)
            assert (down["cluster"], down["id"], down["change"]) == ("k8s", "k8s", "modified")
            assert down["object"]["status"] == "unreachable"
            assert down["object"]["error"]
            assert back["object"]["status"] == "ok"
            assert back["object"]["error"] is None


async def _k8s_down(dev: Caller) -> bool:
    body = await dev.json("GET", "/agents")
    return [e["cluster"] for e in body["errors"]] == ["k8s"]


async def test_events_carry_ids_and_a_client_that_reconnects_gets_what_it_missed(
    start_asgard: StartAsgard,
) -> None:
    async with serving(start_asgard) as env:
        dev, controllers = env.dev, env.kube.controllers

        async def first_node_event() -> list[Frame]:
            await asyncio.sleep(0.5)
            await controllers.add_node("node-3")
            return []

        adding = asyncio.create_task(first_node_event())
        (first,) = await read_frames(dev, "/events?kind=agent", 1)
        await adding
        assert first.event == "agent"
        assert first.data["id"] == "node-3"
        assert first.id is not None
        assert "-" in first.id

        # while nobody listens: two nodes added, an app created
        await controllers.add_node("node-4")
        app = {"cluster": "k8s", "id": "web", "image": "web:1", "instances": 1}
        await dev.json("POST", "/apps", status=201, json=app)
        await controllers.add_node("node-5")

        async def published() -> bool:  # the caches re-read, and published as they did
            agents = {a["id"] for a in (await dev.json("GET", "/agents"))["agents"]}
            apps = {a["id"] for a in (await dev.json("GET", "/apps"))["apps"]}
            return {"node-4", "node-5"} <= agents and "web" in apps

        await eventually(published, "the caches hold the two nodes and the app", 10)

        missed = await read_frames(dev, "/events?kind=agent", 2, {"Last-Event-ID": first.id})
        assert [f.data["id"] for f in missed] == ["node-4", "node-5"], "in order, only agents"
        numbers = [int(first.id.split("-")[1])] + [int(str(f.id).split("-")[1]) for f in missed]
        assert numbers == sorted(numbers)
        assert len(set(numbers)) == 3

        apps = await read_frames(dev, f"/events?kind=app,job&last_event_id={first.id}", 1)
        assert apps[0].event == "app"
        assert apps[0].data["id"] == "web"

        for unknown in ("0000-1", f"{first.id.split('-')[0]}-999999", "garbage"):
            (resync,) = await read_frames(dev, "/events", 1, {"Last-Event-ID": unknown})
            assert resync.event == "resync", unknown
            assert "read the lists again" in resync.data["msg"]
            assert resync.id is not None

        other = await read_frames(
            dev, "/events?cluster=lab,k8s&kind=agent", 1, {"Last-Event-ID": first.id}
        )
        assert other[0].data["cluster"] == "k8s"


async def test_a_quiet_stream_gets_a_comment_within_the_keepalive_even_when_events_are_filtered(
    start_asgard: StartAsgard,
) -> None:
    async with serving(start_asgard, events_keepalive_s=0.5) as env:
        response = await env.dev.get("/events?kind=job", timeout=aiohttp.ClientTimeout(total=20))
        comments: list[float] = []
        loop = asyncio.get_running_loop()
        try:
            async for frame in frames(response):
                assert frame.event is None, "only job events were asked for"
                comments.append(loop.time())
                if len(comments) == 2:  # filtered agent events do not delay the comment
                    await env.kube.controllers.add_node("node-9")
                if len(comments) >= 6:
                    break
        finally:
            response.close()
        gaps = sorted(b - a for a, b in itertools.pairwise(comments))
        # the comments keep their pace (one stall of a loaded machine aside): a filtered
        # event that reset the keepalive's timer would leave the stream silent instead
        assert gaps[len(gaps) // 2] < 1.0, gaps


# usage history


async def test_usage_history_keeps_a_bounded_window_of_samples(start_asgard: StartAsgard) -> None:
    async with serving(start_asgard, history_interval_s=0.1, history_window_s=1.0) as env:
        dev = env.dev
        path = "/clusters/k8s/agents/node-1/history"

        async def filled() -> bool:
            return len((await dev.json("GET", path))["history"]) >= 4

        await eventually(filled, "samples taken", 10)
        first = {s["at"] for s in (await dev.json("GET", path))["history"]}

        async def renewed() -> bool:  # past the window, the samples of then have gone
            return not first & {s["at"] for s in (await dev.json("GET", path))["history"]}

        await eventually(renewed, "the first samples leave the window", 10)
        body = await dev.json("GET", path)
        assert body["interval_s"] == 0.1
        assert body["window_s"] == 1.0
        samples = body["history"]
        assert 1 <= len(samples) <= 10, len(samples)
        stamps = [parsed(s["at"]) for s in samples]
        assert stamps == sorted(stamps)
        assert stamps[-1] - stamps[0] <= timedelta(seconds=1.0)
        assert samples[-1]["resources"]["cpus"] == 4
        assert samples[-1]["resources"]["mem"] == 8 * 1024
        assert "used_resources" in samples[-1]

        assert (await dev.request("GET", "/clusters/k8s/agents/nope/history")).status == 404
        assert (await dev.request("GET", "/clusters/nope/agents/node-1/history")).status == 404

        await env.server.stop()  # a cluster that is down: no sample (a gap), history kept
        await asyncio.sleep(0.3)
        kept = await dev.json("GET", path)
        assert kept["history"], "the samples of before the outage are still served"


async def test_usage_history_carries_what_the_metrics_api_measured(
    start_asgard: StartAsgard,
) -> None:
    """Allocated (pod requests) and in use (NodeMetrics) side by side; a cluster without
    the metrics API has no meter, which is null, not zero."""
    async with serving(start_asgard, history_interval_s=0.1, history_window_s=5.0) as env:
        dev = env.dev
        path = "/clusters/k8s/agents/node-1/history"

        async def sampled() -> list[dict[str, Any]]:
            return list((await dev.json("GET", path))["history"])

        await eventually(sampled, "node-1 sampled", 10)
        assert (await sampled())[-1]["measured_resources"] is None, "no metrics API yet"

        env.kube.emulator.resources["metrics.k8s.io/v1beta1/nodes"] = kmock.ResourceInfo()
        await env.kube.controllers.call(
            "POST",
            "/apis/metrics.k8s.io/v1beta1/nodes",
            {"metadata": {"name": "node-1"}, "usage": {"cpu": "1500m", "memory": "2Gi"}},
        )

        async def metered() -> bool:
            return (await sampled())[-1]["measured_resources"] is not None

        await eventually(metered, "node-1 metered", 10)
        latest = (await sampled())[-1]
        assert latest["measured_resources"]["cpus"] == 1.5
        assert latest["measured_resources"]["mem"] == 2048
        assert latest["used_resources"]["cpus"] == 0, "nothing requested: allocated stays 0"
        node_2 = (await dev.json("GET", "/clusters/k8s/agents/node-2/history"))["history"]
        assert node_2[-1]["measured_resources"] is None, "a node the metrics API omits"
