"""Changes on a real engine reach /apps, /agents and /events without a restart."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from asgard.backends.orchestrator import Orchestrator
from asgard.events import EventHub
from asgard.models import Role
from tests.conftest import StartAsgard, docker_cluster
from tests.support.asgard import AsgardUnderTest, Caller
from tests.support.dockerd import SERVE_FOREVER, TEST_IMAGE, DockerDaemon
from tests.support.sse import sse


@pytest.fixture
async def asgard(start_asgard: StartAsgard, engine: DockerDaemon) -> AsgardUnderTest:
    hub = EventHub()
    fleet = Orchestrator([await docker_cluster("local", engine)])
    fleet.enable_caches(hub)
    return await start_asgard(fleet, hub=hub)


async def collect(
    events: AsyncIterator[dict[str, Any]], wanted: set[tuple[str, str]]
) -> dict[tuple[str, str], dict[str, Any]]:
    """Read events until one of each (kind, change) wanted has come; in whatever order."""
    seen: dict[tuple[str, str], dict[str, Any]] = {}
    async with asyncio.timeout(20):
        async for event in events:
            seen.setdefault((event["kind"], event["change"]), event)
            if wanted <= seen.keys():
                return seen
    raise AssertionError(f"missing events: {wanted - seen.keys()}")


async def callers(asgard: AsgardUnderTest) -> tuple[Caller, Caller]:
    dev = await asgard.account("dev")
    ops = await asgard.account("ops")
    return (
        await asgard.caller("dev@example.com", roles={dev.id: Role.OPERATOR}),
        await asgard.caller("ops@example.com", roles={ops.id: Role.VIEWER}),
    )


async def test_a_container_started_behind_asgards_back_appears_everywhere(
    asgard: AsgardUnderTest, engine: DockerDaemon
) -> None:
    dev, ops = await callers(asgard)
    assert (await dev.json("GET", "/apps"))["apps"] == []
    stream = await dev.get("/events")
    assert stream.status == 200
    assert stream.headers["Content-Type"].startswith("text/event-stream")
    theirs = await ops.get("/events")
    events = sse(stream)

    engine.cli(
        "run",
        "-d",
        "--label",
        "asgard.namespace=dev",
        "--label",
        "asgard.app=sneaky",
        TEST_IMAGE,
        *SERVE_FOREVER,
    )
    seen = await collect(events, {("app", "added"), ("task", "added"), ("agent", "modified")})
    added = seen[("app", "added")]
    assert added["cluster"] == "local"
    assert added["id"] == "sneaky"
    assert added["object"]["id"] == "sneaky"
    assert seen[("agent", "modified")]["object"]["total_apps"] == 1

    deadline = time.monotonic() + 10
    while "sneaky" not in [a["id"] for a in (await dev.json("GET", "/apps"))["apps"]]:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.1)
    body = await dev.json("GET", "/apps")
    assert set(body["as_of"]) == {"local"}

    heard: list[dict[str, Any]] = []

    async def listen() -> None:
        async for event in sse(theirs):
            heard.append(event)

    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(listen(), 1)
    assert [e for e in heard if e["kind"] != "agent"] == [], "ops hears nothing of dev's apps"
    stream.close()
    theirs.close()


async def test_a_write_through_asgard_shows_at_once(asgard: AsgardUnderTest) -> None:
    dev, _ = await callers(asgard)
    await dev.json("GET", "/apps")  # the account's apps are now cached
    spec = {
        "cluster": "local",
        "id": "web",
        "image": TEST_IMAGE,
        "args": SERVE_FOREVER,
        "instances": 1,
    }
    await dev.json("POST", "/apps", status=201, json=spec)
    assert [a["id"] for a in (await dev.json("GET", "/apps"))["apps"]] == ["web"]
    await dev.json("DELETE", "/clusters/local/apps/web", status=204)
    assert (await dev.json("GET", "/apps"))["apps"] == []
