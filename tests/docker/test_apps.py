"""Apps on a real Docker Engine, single and Swarm, through the HTTP API alone."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from asgard.backends.orchestrator import Orchestrator
from asgard.models import Role
from tests.conftest import StartAsgard, docker_cluster
from tests.support.asgard import AsgardUnderTest, Caller
from tests.support.dockerd import SERVE_FOREVER, TEST_IMAGE, DockerDaemon

SETTLE_S = 90
APP = "/clusters/local/apps/shop/web"


ENGINE_ALONE = pytest.mark.parametrize("env", ["engine"], indirect=True)
"""For a test of what Asgard does over HTTP (statuses, tenancy, merging) whose Swarm side
the conformance kit proves (``tests/conformance``, ``docker-swarm``): on the single engine
alone, which starts its containers faster than a Swarm schedules tasks."""


@dataclass
class Env:
    asgard: AsgardUnderTest
    daemon: DockerDaemon
    dev: Caller
    ops: Caller
    viewer: Caller


@pytest.fixture(params=["engine", "swarm"])
async def env(request: pytest.FixtureRequest, start_asgard: StartAsgard) -> AsyncIterator[Env]:
    daemon: DockerDaemon = request.getfixturevalue(request.param)
    cluster = await docker_cluster("local", daemon)
    asgard = await start_asgard(Orchestrator([cluster]))
    dev = await asgard.account("dev")
    ops = await asgard.account("ops")
    yield Env(
        asgard=asgard,
        daemon=daemon,
        dev=await asgard.caller("dev@example.com", roles={dev.id: Role.OPERATOR}),
        ops=await asgard.caller("ops@example.com", roles={ops.id: Role.OPERATOR}),
        viewer=await asgard.caller("viewer@example.com", roles={dev.id: Role.VIEWER}),
    )
    await cluster.close()


def spec(instances: int = 3, **extra: Any) -> dict[str, Any]:
    return {
        "cluster": "local",
        "id": "shop/web",
        "image": TEST_IMAGE,
        "args": SERVE_FOREVER,
        "env": {"GREETING": "hello"},
        "instances": instances,
        **extra,
    }


async def until(check: Callable[[], Awaitable[bool]], what: str) -> None:
    deadline = time.monotonic() + SETTLE_S
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.3)
    raise AssertionError(f"never happened: {what}")


async def running_tasks(caller: Caller, count: int) -> set[str]:
    ids: set[str] = set()

    async def check() -> bool:
        nonlocal ids
        app = (await caller.json("GET", APP))["app"]
        tasks = [
            t
            for t in (await caller.json("GET", f"{APP}/tasks"))["tasks"]
            if t["state"] == "running"
        ]
        ids = {t["id"] for t in tasks}
        wanted_status = "running" if count else "suspended"
        return bool(
            app["instances"]["running"] == count == len(tasks) and app["status"] == wanted_status
        )

    await until(check, f"{count} running instances")
    return ids


@ENGINE_ALONE
async def test_deploy_scale_restart_and_delete(env: Env) -> None:
    created = await env.dev.json("POST", "/apps", status=201, json=spec(3))
    assert created["app"]["id"] == "shop/web"
    assert created["app"]["instances"]["desired"] == 3
    first = await running_tasks(env.dev, 3)

    await env.dev.json("PATCH", APP, json={"instances": 5})
    await running_tasks(env.dev, 5)
    await env.dev.json("PATCH", APP, json={"instances": 0})
    await running_tasks(env.dev, 0)
    suspended = (await env.dev.json("GET", APP))["app"]
    assert suspended["status"] == "suspended"
    assert suspended["env"] == {"GREETING": "hello"}
    await env.dev.json("PATCH", APP, json={"instances": 3})
    before = await running_tasks(env.dev, 3)
    assert before.isdisjoint(first)

    await env.dev.json("POST", f"{APP}/restart")

    async def replaced() -> bool:
        return (await running_tasks(env.dev, 3)).isdisjoint(before)

    await until(replaced, "every instance replaced")

    await env.dev.json("DELETE", APP, status=204)
    assert (await env.dev.get(APP)).status == 404
    labels = ["--filter", "label=asgard.app=shop/web"]
    assert env.daemon.cli("ps", "-aq", *labels).split() == []
    assert env.daemon.cli("volume", "ls", "-q").split() == []
    if env.daemon.is_swarm():
        assert env.daemon.cli("service", "ls", "-q").split() == []


async def test_an_update_never_drops_the_app_to_zero(env: Env) -> None:
    await env.dev.json("POST", "/apps", status=201, json=spec(2))
    await running_tasks(env.dev, 2)
    seen: list[int] = []
    done = asyncio.Event()

    async def watch() -> None:
        while not done.is_set():
            seen.append(
                len(env.daemon.cli("ps", "-q", "--filter", "label=asgard.app=shop/web").split())
            )
            await asyncio.sleep(0.05)

    watcher = asyncio.create_task(watch())
    await env.dev.json("PATCH", APP, json={"env": {"GREETING": "bonjour"}})
    await until(
        lambda: _env_is(env.dev, {"GREETING": "bonjour"}),
        "the new environment everywhere",
    )
    await running_tasks(env.dev, 2)
    done.set()
    await watcher
    assert seen
    assert min(seen) >= 1, f"running instances dropped to zero during the update: {seen}"


async def _env_is(caller: Caller, env: dict[str, str]) -> bool:
    return bool((await caller.json("GET", APP))["app"]["env"] == env)


@ENGINE_ALONE
async def test_a_missing_image_is_422_and_leaves_nothing(env: Env) -> None:
    response = await env.dev.post("/apps", json=spec(2, image="asgard-test/missing:3"))
    assert response.status == 422
    error = (await response.json())["errors"][0]
    assert error["field"] == "image"
    assert "asgard-test/missing:3" in error["msg"]
    assert env.daemon.cli("ps", "-aq", "--filter", "label=asgard.app").split() == []
    if env.daemon.is_swarm():
        assert env.daemon.cli("service", "ls", "-q").split() == []


@ENGINE_ALONE
async def test_a_taken_name_is_409(env: Env) -> None:
    await env.dev.json("POST", "/apps", status=201, json=spec(1))
    response = await env.dev.post("/apps", json=spec(1))
    assert response.status == 409
    assert "already exists" in (await response.json())["errors"][0]["msg"]


@ENGINE_ALONE
async def test_accounts_cannot_see_or_touch_each_others_apps(env: Env) -> None:
    await env.dev.json("POST", "/apps", status=201, json=spec(1))
    await env.ops.json("POST", "/apps", status=201, json=spec(1, id="shop/api"))
    assert [a["id"] for a in (await env.dev.json("GET", "/apps"))["apps"]] == ["shop/web"]
    assert [a["id"] for a in (await env.ops.json("GET", "/apps"))["apps"]] == ["shop/api"]
    for method, path, body in (
        ("GET", APP, None),
        ("PATCH", APP, {"instances": 4}),
        ("POST", f"{APP}/restart", None),
        ("DELETE", APP, None),
        ("GET", f"{APP}/tasks", None),
        ("GET", f"{APP}/logs", None),
        ("GET", f"{APP}/stats", None),
    ):
        response = await env.ops.request(method, path, json=body)
        assert response.status == 404, (method, path)
    other = "/clusters/local/apps/shop/api"
    assert (await env.dev.get(other)).status == 404
    assert (await env.dev.delete(other)).status == 404
    assert (await env.dev.json("GET", APP))["app"]["instances"]["desired"] == 1
    assert (await env.ops.json("GET", other))["app"]["instances"]["desired"] == 1
    assert (await env.viewer.post(f"{APP}/restart")).status == 403


@pytest.mark.quiet  # its sampling time is wall-clock
async def test_stats_are_a_sample_and_say_so(env: Env) -> None:
    burn = ["sh", "-c", "trap 'exit 0' TERM; while true; do :; done"]
    await env.dev.json("POST", "/apps", status=201, json=spec(2, args=burn, resources={"mem": 64}))
    await running_tasks(env.dev, 2)
    sampled: list[tuple[dict[str, Any], float]] = []

    async def busy() -> bool:  # on a loaded machine the loops may get their share late
        started = time.monotonic()
        body = await env.dev.json("GET", f"{APP}/stats")
        sampled.append((body["stats"], time.monotonic() - started))
        return bool(body["stats"]["cpu_pct"] > 20)

    await until(busy, "two busy loops use CPU")
    stats, elapsed = sampled[-1]
    assert stats["source"] == "sample"
    assert stats["instances"] == 2
    assert "no history" in stats["message"]
    assert stats["cpu_pct"] > 20, "two busy loops use CPU"
    assert 0 < stats["ram_pct"] < 100
    assert elapsed < 5, "instances are sampled together, one-shot"
    one_minute = await env.dev.json("GET", f"{APP}/stats/avg-1min")
    assert one_minute["stats"]["source"] == "sample"


@pytest.mark.parametrize("mode", ["engine", "swarm"])
async def test_the_host_is_metered_beside_what_is_allocated(
    request: pytest.FixtureRequest, start_asgard: StartAsgard, mode: str
) -> None:
    """The usage history holds what the engine's containers use (a busy loop: about a
    core), next to what they reserved; a Swarm manager meters its own node."""
    daemon: DockerDaemon = request.getfixturevalue(mode)
    cluster = await docker_cluster("local", daemon)
    asgard = await start_asgard(Orchestrator([cluster]), history_interval_s=0.3)
    dev = await asgard.caller(
        "dev@example.com", roles={(await asgard.account("dev")).id: Role.OPERATOR}
    )
    burn = ["sh", "-c", "trap 'exit 0' TERM; while true; do :; done"]
    await dev.json("POST", "/apps", status=201, json=spec(1, args=burn, resources={"mem": 64}))
    await running_tasks(dev, 1)
    [agent] = (await dev.json("GET", "/agents"))["agents"]
    history = f"/clusters/local/agents/{agent['id']}/history"

    async def busy() -> bool:
        """A sample lists the agents, then reads the meters (two container samples, a
        second or more): the first busy sample can have listed the agent before the
        container started, so the one looked for shows both."""
        samples = (await dev.json("GET", history))["history"]
        latest = samples[-1] if samples else None
        measured = latest["measured_resources"] if latest else None
        return (
            measured is not None
            and measured["cpus"] > 0.3
            and latest is not None
            and latest["used_resources"]["mem"] == 64
        )

    await until(busy, "the busy loop shows as CPU in use beside what it reserved")
    latest = (await dev.json("GET", history))["history"][-1]
    assert 0 < latest["measured_resources"]["mem"] < agent["resources"]["mem"]
    assert latest["measured_resources"]["cpus"] <= agent["resources"]["cpus"]
    assert latest["used_resources"]["mem"] == 64, "allocated: what the app reserved"
    await dev.json("DELETE", APP, status=204)
    await cluster.close()


@ENGINE_ALONE
async def test_logs_tail_and_follow(env: Env) -> None:
    talk = [
        "sh",
        "-c",
        "trap 'exit 0' TERM; i=0; while true; do i=$((i+1)); echo line $i; sleep 0.2; done",
    ]
    await env.dev.json("POST", "/apps", status=201, json=spec(1, args=talk))
    await running_tasks(env.dev, 1)

    async def talked() -> bool:
        return len((await (await env.dev.get(f"{APP}/logs")).text()).splitlines()) >= 2

    await until(talked, "the app says two lines")

    tail = await (await env.dev.get(f"{APP}/logs?tail=2")).text()
    lines = [x for x in tail.splitlines() if x]
    assert len(lines) == 2
    assert all("line" in x for x in lines)

    response = await env.dev.get(f"{APP}/logs?tail=0&follow=true")
    assert response.status == 200
    got = b""
    async with asyncio.timeout(10):
        while got.count(b"line") < 3:
            got += await response.content.readany()
    response.close()

    # The follow stream ends on the server once the client has gone: its request completes.
    route = "/clusters/{cluster}/apps/{app_id}/logs"
    done = f'asgard_http_requests_total{{method="GET",route="{route}",status="499"}} 1.0'
    deadline = time.monotonic() + 10
    while done not in await (await env.dev.client.get("/metrics")).text():
        assert time.monotonic() < deadline, "the follow stream kept running after its client left"
        await asyncio.sleep(0.2)
    numbers = [
        int(x.split()[-1]) for x in got.decode().splitlines() if x.strip().startswith(("line", "["))
    ]
    assert numbers == sorted(numbers)
    assert numbers[0] > int(lines[-1].split()[-1]) - 1


async def test_published_ports_and_constraints(env: Env) -> None:
    created = await env.dev.json(
        "POST",
        "/apps",
        status=201,
        json=spec(1, ports=[{"container_port": 8080, "published_port": 18080}]),
    )
    assert created["app"]["ports"] == [
        {"container_port": 8080, "protocol": "tcp", "published_port": 18080}
    ]
    await running_tasks(env.dev, 1)
    if not env.daemon.is_swarm():
        response = await env.dev.patch(APP, json={"instances": 2})
        assert response.status == 422
        assert (await response.json())["errors"][0]["field"] == "ports"
        unmet = await env.dev.post("/apps", json=spec(1, id="zoned", constraints=["zone==eu"]))
        assert unmet.status == 422
        assert "zone==eu" in (await unmet.json())["errors"][0]["msg"]
    else:
        await env.dev.json(
            "POST", "/apps", status=201, json=spec(1, id="zoned", constraints=["zone==eu"])
        )
        service = json.loads(env.daemon.cli("service", "inspect", "dev_zoned"))[0]
        assert service["Spec"]["TaskTemplate"]["Placement"]["Constraints"] == [
            "node.labels.zone==eu"
        ]


async def test_an_account_with_an_owner_deploys_only_on_its_agents(
    env: Env, start_asgard: StartAsgard
) -> None:
    cluster = await docker_cluster("local", env.daemon)
    asgard = await start_asgard(Orchestrator([cluster]))
    account = await asgard.account("team", owner="team-a")
    caller = await asgard.caller("team@example.com", roles={account.id: Role.OPERATOR})
    try:
        if env.daemon.is_swarm():
            await caller.json("POST", "/apps", status=201, json=spec(1))
            service = json.loads(env.daemon.cli("service", "inspect", "team_shop_web"))[0]
            constraints = service["Spec"]["TaskTemplate"]["Placement"]["Constraints"]
            assert constraints == ["node.labels.owner==team-a"]
        else:
            refused = await caller.post("/apps", json=spec(1))
            assert refused.status == 422
            assert "owner 'team-a'" in (await refused.json())["errors"][0]["msg"]
            env.daemon.set_labels({"owner": "team-a"})
            await caller.json("POST", "/apps", status=201, json=spec(1))
    finally:
        await cluster.close()


async def test_an_update_that_cannot_start_is_undone_on_a_single_engine(
    start_asgard: StartAsgard, engine: DockerDaemon
) -> None:
    """The successor of the first instance fails to start: the app stays as it was."""
    cluster = await docker_cluster("local", engine)
    asgard = await start_asgard(Orchestrator([cluster]))
    account = await asgard.account("dev")
    dev = await asgard.caller("dev@example.com", roles={account.id: Role.OPERATOR})
    await dev.json("POST", "/apps", status=201, json=spec(3))
    before = await running_tasks(dev, 3)

    refused = await dev.patch(APP, json={"cmd": ["/no/such/program"], "args": []})
    assert refused.status == 422, await refused.text()
    body = await refused.json()
    assert "no/such/program" in body["errors"][0]["msg"]
    assert "Traceback" not in await refused.text()

    app = (await dev.json("GET", APP))["app"]
    assert app["cmd"] is None or "/no/such/program" not in app["cmd"]
    assert await running_tasks(dev, 3) == before, "the instances that ran still run"
    await dev.json("DELETE", APP, status=204)
    await cluster.close()
