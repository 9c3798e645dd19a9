"""Safe defaults on a real Docker Engine, single and Swarm: apps locked down, low host
ports and reserved labels refused, jobs placed on the account owner's agents."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from asgard.backends.docker.config import DockerClusterConfig
from asgard.backends.docker.specs import object_name
from asgard.backends.orchestrator import Orchestrator
from asgard.backends.safety import APP_CAPABILITIES
from asgard.models import Role
from tests.conftest import StartAsgard, build
from tests.support.asgard import AsgardUnderTest, Caller
from tests.support.dockerd import SERVE_FOREVER, TEST_IMAGE, DockerDaemon

SETTLE_S = 90


@dataclass
class Env:
    asgard: AsgardUnderTest
    daemon: DockerDaemon
    dev: Caller
    team: Caller
    """An operator of an account whose owner is ``team-a``."""


async def _env(daemon: DockerDaemon, start_asgard: StartAsgard, **settings: Any) -> tuple[Env, Any]:
    cluster = await build(DockerClusterConfig(name="local", url=daemon.url, **settings))
    asgard = await start_asgard(Orchestrator([cluster]))
    dev = await asgard.account("dev")
    team = await asgard.account("team", owner="team-a")
    env = Env(
        asgard=asgard,
        daemon=daemon,
        dev=await asgard.caller("dev@example.com", roles={dev.id: Role.OPERATOR}),
        team=await asgard.caller("team@example.com", roles={team.id: Role.OPERATOR}),
    )
    return env, cluster


@pytest.fixture(params=["engine", "swarm"])
async def env(request: pytest.FixtureRequest, start_asgard: StartAsgard) -> AsyncIterator[Env]:
    made, cluster = await _env(request.getfixturevalue(request.param), start_asgard)
    yield made
    await cluster.close()


def app(app_id: str = "web", **extra: Any) -> dict[str, Any]:
    return {
        "cluster": "local",
        "id": app_id,
        "image": TEST_IMAGE,
        "args": SERVE_FOREVER,
        "instances": 1,
        **extra,
    }


def job(name: str = "once", **extra: Any) -> dict[str, Any]:
    return {"cluster": "local", "name": name, "image": TEST_IMAGE, "command": ["true"], **extra}


async def running_container(daemon: DockerDaemon, app_id: str) -> dict[str, Any]:
    """The inspected running container of the app's one instance (engine or Swarm task)."""
    deadline = time.monotonic() + SETTLE_S
    while time.monotonic() < deadline:
        found = daemon.cli(
            "ps", "-q", "--filter", f"label=asgard.app={app_id}", "--filter", "status=running"
        ).split()
        if found:
            return dict(json.loads(daemon.cli("inspect", found[0]))[0])
        await asyncio.sleep(0.3)
    raise AssertionError(f"no running container of {app_id}")


async def test_apps_run_locked_down_and_the_test_image_survives_it(env: Env) -> None:
    await env.dev.json("POST", "/apps", status=201, json=app())
    host = (await running_container(env.daemon, "web"))["HostConfig"]
    assert host["CapDrop"] == ["ALL"]
    assert sorted(c.removeprefix("CAP_") for c in host["CapAdd"]) == sorted(APP_CAPABILITIES)
    assert host["PidsLimit"] == 4096
    if env.daemon.is_swarm():
        service = json.loads(env.daemon.cli("service", "inspect", object_name("dev", "web")))[0]
        template = service["Spec"]["TaskTemplate"]
        assert template["ContainerSpec"]["CapabilityDrop"] == ["ALL"]
        assert template["Resources"]["Limits"]["Pids"] == 4096
    else:  # Swarm sets no-new-privileges from engine API 1.46 on; a single engine always
        assert "no-new-privileges" in host["SecurityOpt"]
    # busybox running as root keeps running under these defaults: the app is running
    body = await env.dev.json("GET", "/clusters/local/apps/web")
    assert body["app"]["instances"]["running"] == 1, body


@pytest.mark.parametrize("kind", ["engine", "swarm"])
async def test_a_cluster_entry_can_lift_the_app_defaults(
    kind: str, request: pytest.FixtureRequest, start_asgard: StartAsgard
) -> None:
    daemon: DockerDaemon = request.getfixturevalue(kind)
    made, cluster = await _env(daemon, start_asgard, app_defaults="none", pids_limit=None)
    try:
        await made.dev.json("POST", "/apps", status=201, json=app())
        host = (await running_container(daemon, "web"))["HostConfig"]
        assert not host.get("CapDrop")
        assert not host.get("SecurityOpt")
        assert not host.get("PidsLimit")
    finally:
        await cluster.close()


async def test_a_host_port_below_1024_is_refused_unless_allowed(env: Env) -> None:
    low = app(ports=[{"container_port": 8080, "published_port": 80}])
    refused = await env.dev.post("/apps", json=low)
    assert refused.status == 422
    error = (await refused.json())["errors"][0]
    assert error["field"] == "ports"
    assert "host port 80 " in error["msg"]
    assert "allow_low_host_ports" in error["msg"]
    assert env.daemon.cli("ps", "-aq", "--filter", "label=asgard.app").split() == []
    if env.daemon.is_swarm():
        assert env.daemon.cli("service", "ls", "-q").split() == []


async def test_low_host_ports_are_allowed_where_the_entry_says(
    engine: DockerDaemon, start_asgard: StartAsgard
) -> None:
    made, cluster = await _env(engine, start_asgard, allow_low_host_ports=True)
    try:
        low = app(ports=[{"container_port": 8080, "published_port": 987}])
        created = await made.dev.json("POST", "/apps", status=201, json=low)
        assert created["app"]["ports"][0]["published_port"] == 987
    finally:
        await cluster.close()


RESERVED_LABELS = [
    {"traefik.http.routers.shop.rule": "Host(`shop.example.com`)"},
    {"Traefik.Enable": "true"},
    {"com.docker.compose.project": "other"},
    {"HAPROXY_0_VHOST": "shop.example.com"},
    {"asgard.namespace": "ops"},
]


async def test_reserved_labels_are_refused_on_apps_and_jobs(env: Env) -> None:
    """Each set of labels on its own, against one app (starting one per set took most of
    the time, and proved nothing more)."""
    await env.dev.json("POST", "/apps", status=201, json=app(labels={"tier": "front"}))
    for labels in RESERVED_LABELS:
        for method, path, body in [
            ("POST", "/apps", app("other", labels=labels)),
            ("POST", "/jobs", job(labels=labels)),
        ]:
            refused = await env.dev.request(method, path, json=body)
            assert refused.status == 422, (labels, await refused.text())
            assert (await refused.json())["errors"][0]["field"].endswith("labels"), labels
        patched = await env.dev.patch("/clusters/local/apps/web", json={"labels": labels})
        assert patched.status == 422, labels
        assert env.daemon.cli("ps", "-aq", "--filter", "label=asgard.job").split() == []
        assert env.daemon.cli("ps", "-aq", "--filter", "label=asgard.app=other").split() == []
        container = await running_container(env.daemon, "web")
        assert not set(labels) & set(container["Config"]["Labels"]) - {"asgard.namespace"}
        assert container["Config"]["Labels"]["asgard.namespace"] == "dev"


async def test_jobs_run_on_the_account_owners_agents_only(env: Env) -> None:
    refused = await env.team.post("/jobs", json=job())
    assert refused.status == 422, await refused.text()
    assert "owner 'team-a'" in (await refused.json())["errors"][0]["msg"]
    if env.daemon.is_swarm():
        node = env.daemon.cli("node", "ls", "-q").split()[0]
        env.daemon.cli("node", "update", "--label-add", "owner=team-a", node)
    else:
        env.daemon.set_labels({"owner": "team-a"})
    created = await env.team.json("POST", "/jobs", status=201, json=job())
    if env.daemon.is_swarm():
        found = env.daemon.cli("service", "ls", "-q", "--filter", "label=asgard.namespace=team")
        service = json.loads(env.daemon.cli("service", "inspect", found.split()[0]))[0]
        constraints = service["Spec"]["TaskTemplate"]["Placement"]["Constraints"]
        assert "node.labels.owner==team-a" in constraints
    assert created["job"]["id"].startswith("once-")
