"""Every pod's logs merged in time order, and one pod's, through Asgard's HTTP API, on the
Kubernetes API emulator (which stamps lines and reads ``sinceTime`` as the kubelet does)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest

from asgard.backends.log_merge import DISCOVER_EVERY_S, END_GRACE_S
from asgard.events import EventHub
from asgard.models import Role
from testbed.kube import items
from tests.conftest import KubeCluster, StartAsgard, running_kube
from tests.support.asgard import Caller

APP = "/clusters/k8s/apps/shop/web"
T0 = datetime(2026, 12, 1, 16, 0, tzinfo=UTC)


@dataclass
class Env:
    kube: KubeCluster
    dev: Caller
    ops: Caller


@pytest.fixture
async def env(start_asgard: StartAsgard) -> AsyncIterator[Env]:
    async with running_kube() as kube:
        hub = EventHub()
        kube.orchestrator.enable_caches(hub)
        asgard = await start_asgard(kube.orchestrator, hub=hub)
        dev = await asgard.account("dev")
        ops = await asgard.account("ops")
        yield Env(
            kube,
            await asgard.caller("dev@example.com", roles={dev.id: Role.OPERATOR}),
            await asgard.caller("ops@example.com", roles={ops.id: Role.OPERATOR}),
        )


def pods(env: Env) -> list[str]:
    return sorted(p["metadata"]["name"] for p in items(env.kube.emulator, "v1/pods", "dev"))


def log_requests(env: Env, pod: str) -> list[dict[str, str]]:
    return [
        q
        for m, p, q in env.kube.emulator.requests_log
        if m == "GET" and p.endswith(f"/pods/{pod}/log")
    ]


async def deploy(env: Env, instances: int) -> list[str]:
    body = {"cluster": "k8s", "id": "shop/web", "image": "web:1", "instances": instances}
    await env.dev.json("POST", "/apps", status=201, json=body)
    await env.kube.controllers.reconcile()
    return pods(env)


async def body_of(caller: Caller, path: str) -> str:
    response = await caller.get(path)
    body = await response.text()
    assert response.status == 200, f"{path}: {response.status} {body}"
    return body


def records(body: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in body.splitlines() if line]


async def next_records(
    response: aiohttp.ClientResponse, count: int, *, skip_markers: bool = False
) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    async with asyncio.timeout(15):
        while len(found) < count:
            record = json.loads(await response.content.readline())
            if not (skip_markers and record["stream"] == "asgard"):
                found.append(record)
    return found


async def test_pods_lines_come_merged_by_the_times_kubernetes_stamped(env: Env) -> None:
    a, b = await deploy(env, 2)
    emulator = env.kube.emulator
    emulator.write_log("dev", a, "a1", at=T0 + timedelta(seconds=1))
    emulator.write_log("dev", b, "b2", at=T0 + timedelta(seconds=2))
    emulator.write_log("dev", a, "a3", at=T0 + timedelta(seconds=3))
    emulator.write_log("dev", b, "b4", at=T0 + timedelta(seconds=4))

    got = records(await body_of(env.dev, f"{APP}/logs?tasks=all&format=jsonl"))
    assert [(r["task"], r["line"]) for r in got] == [(a, "a1"), (b, "b2"), (a, "a3"), (b, "b4")]
    assert got[0]["ts"] == "2026-12-01T16:00:01Z"
    assert {r["stream"] for r in got} == {"output"}, "the API server merges stdout and stderr"
    container = next(iter(items(emulator, "v1/pods", "dev")))["spec"]["containers"][0]["name"]
    assert log_requests(env, a)[-1] == {
        "timestamps": "true",
        "tailLines": "100",
        "follow": "false",
        "container": container,
    }

    text = await body_of(env.dev, f"{APP}/logs?tasks=all&tail=1")
    assert text == f"{a} | a3\n{b} | b4\n"

    since = await body_of(env.dev, f"{APP}/logs?tasks=all&since=2026-12-01T16:00:02.5Z")
    assert since == f"{a} | a3\n{b} | b4\n"
    assert log_requests(env, a)[-1]["sinceTime"] == "2026-12-01T16:00:02Z", (
        "Kubernetes takes whole seconds; Asgard leaves out the rest of that second itself"
    )
    offset = await body_of(env.dev, f"{APP}/logs?tasks=all&since=2026-12-01T18:00:03.5%2B02:00")
    assert offset == f"{b} | b4\n"


async def test_one_pods_logs_unknown_pods_and_bad_values(env: Env) -> None:
    a, _ = await deploy(env, 2)
    env.kube.emulator.write_log("dev", a, "one", "two", "three", at=T0)
    assert await body_of(env.dev, f"{APP}/tasks/{a}/logs?tail=2") == "two\nthree\n"
    [one] = records(await body_of(env.dev, f"{APP}/tasks/{a}/logs?tail=1&format=jsonl"))
    assert one == {
        "task": a,
        "ts": "2026-12-01T16:00:00.000002Z",
        "stream": "output",
        "line": "three",
    }

    for path, status, field in (
        (f"{APP}/tasks/nope/logs", 404, "task_id"),
        (f"{APP}/tasks/{a}/logs?since=yesterday", 422, "since"),
        (f"{APP}/tasks/{a}/logs?since=2026-12-01T16:00:00", 422, "since"),
        (f"{APP}/tasks/{a}/logs?tail=-1", 422, "tail"),
        (f"{APP}/tasks/{a}/logs?format=xml", 422, "format"),
        (f"{APP}/logs?tasks=some", 422, "tasks"),
        ("/clusters/k8s/apps/shop/nope/logs?tasks=all", 404, None),
    ):
        response = await env.dev.get(path)
        assert response.status == status, path
        [error] = (await response.json())["errors"]
        assert error.get("field") == field, (path, error)
    assert (await env.ops.get(f"{APP}/tasks/{a}/logs")).status == 404, "another account's"
    # since and format=jsonl mean lines read one by one: they ask for the merged form
    implied = records(await body_of(env.dev, f"{APP}/logs?format=jsonl&tail=1"))
    assert implied == records(await body_of(env.dev, f"{APP}/logs?tasks=all&format=jsonl&tail=1"))
    assert one in implied
    since = await body_of(env.dev, f"{APP}/logs?since=2026-12-01T16:00:00Z")
    assert f"{a} | three" in since.splitlines()


async def test_following_joins_pods_that_start_and_says_when_they_end(env: Env) -> None:
    [a] = await deploy(env, 1)
    response = await env.dev.get(f"{APP}/logs?tasks=all&tail=0&follow=true&format=jsonl")
    assert response.status == 200
    async with asyncio.timeout(5):
        while not any(q["follow"] == "true" for q in log_requests(env, a)):
            await asyncio.sleep(0.05)  # Asgard now follows the pod
    env.kube.emulator.write_log("dev", a, "a says hello")
    assert [r["line"] for r in await next_records(response, 1)] == ["a says hello"]

    await env.dev.json("PATCH", APP, json={"instances": 2})
    await env.kube.controllers.reconcile()
    [b] = sorted(set(pods(env)) - {a})
    async with asyncio.timeout(10):
        while not any(q["follow"] == "true" for q in log_requests(env, b)):
            await asyncio.sleep(0.05)  # the new pod is joined
    env.kube.emulator.write_log("dev", b, "b is up")
    started, line = await next_records(response, 2)
    assert (started["task"], started["stream"], started["line"]) == (b, "asgard", "task started")
    assert (line["task"], line["line"]) == (b, "b is up")

    env.kube.emulator.write_log("dev", a, "a's last words", closed=True)
    last, ended = await next_records(response, 2)
    assert (last["task"], last["line"]) == (a, "a's last words")
    assert (ended["task"], ended["stream"], ended["line"]) == (a, "asgard", "task ended")

    await env.dev.json("DELETE", APP, status=204)
    await env.kube.controllers.reconcile()
    [gone] = await next_records(response, 1)
    assert (gone["task"], gone["line"]) == (b, "task ended"), "a deleted pod ends too"
    response.close()


async def test_following_one_pod_ends_with_it(env: Env) -> None:
    [a] = await deploy(env, 1)
    env.kube.emulator.write_log("dev", a, "before", at=T0)
    response = await env.dev.get(f"{APP}/tasks/{a}/logs?tail=1&follow=true")
    async with asyncio.timeout(5):
        assert await response.content.readline() == b"before\n"
    env.kube.emulator.write_log("dev", a, "after", closed=True)
    async with asyncio.timeout(10):
        rest = await response.content.read()
    assert rest == b"after\n[asgard] task ended\n"


async def test_a_followed_pod_that_has_not_started_is_read_once_it_has(env: Env) -> None:
    [a] = await deploy(env, 1)
    status = f"/api/v1/namespaces/dev/pods/{a}/status"
    await env.kube.controllers.call("PATCH", status, {"status": {"phase": "Pending"}})
    assert await body_of(env.dev, f"{APP}/tasks/{a}/logs") == "", "nothing to read yet"

    response = await env.dev.get(f"{APP}/tasks/{a}/logs?follow=true")
    assert response.status == 200
    await asyncio.sleep(DISCOVER_EVERY_S + END_GRACE_S)  # long enough to be taken as ended
    await env.kube.controllers.call("PATCH", status, {"status": {"phase": "Running"}})
    async with asyncio.timeout(10):
        while not any(q["follow"] == "true" for q in log_requests(env, a)):
            await asyncio.sleep(0.05)  # Asgard saw it start and follows its log
    env.kube.emulator.write_log("dev", a, "up at last")
    async with asyncio.timeout(5):
        assert await response.content.readline() == b"up at last\n"
    response.close()
