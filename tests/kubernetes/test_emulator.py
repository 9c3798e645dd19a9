"""The emulator extension on its own: what it adds to kmock behaves as the API conventions say."""

from __future__ import annotations

import asyncio
import datetime
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import kmock
import pytest

from testbed.kube import ApiServer, Emulator, labels_match


@pytest.fixture
async def api() -> AsyncIterator[tuple[Emulator, str, aiohttp.ClientSession]]:
    async with (
        Emulator() as emulator,
        kmock.Server(emulator) as server,
        aiohttp.ClientSession() as session,
    ):
        emulator.resources["v1/pods"] = kmock.ResourceInfo()
        emulator.resources["apps/v1/deployments"] = kmock.ResourceInfo()
        yield emulator, str(server.url).rstrip("/"), session


async def call(
    session: aiohttp.ClientSession, method: str, url: str, body: Any = None, **params: str
) -> tuple[int, Any]:
    headers = {"Content-Type": "application/merge-patch+json"} if method == "PATCH" else {}
    async with session.request(method, url, json=body, params=params, headers=headers) as response:
        text = await response.text()
        try:
            return response.status, json.loads(text)
        except ValueError:
            return response.status, text


async def pods(emulator: Emulator, url: str, session: aiohttp.ClientSession, count: int) -> None:
    for n in range(count):
        await call(
            session,
            "POST",
            f"{url}/api/v1/namespaces/dev/pods",
            {
                "metadata": {
                    "name": f"p{n}",
                    "namespace": "dev",
                    "labels": {"app": "a" if n % 2 else "b", "n": str(n)},
                },
                "spec": {"nodeName": f"node-{n % 3}"},
                "status": {"phase": "Failed" if n == 4 else "Running"},
            },
        )


def test_label_selectors() -> None:
    labels = {"app": "web", "tier": "front"}
    assert labels_match(labels, "app=web")
    assert labels_match(labels, "app==web,tier!=back")
    assert labels_match(labels, "app in (web, api),tier")
    assert not labels_match(labels, "app notin (web)")
    assert not labels_match(labels, "!tier")
    assert labels_match(labels, "!owner")
    assert labels_match({}, "owner!=x"), "!= matches objects without the label"


async def test_objects_get_metadata_and_versions(
    api: tuple[Emulator, str, aiohttp.ClientSession],
) -> None:
    _emulator, url, session = api
    _, created = await call(
        session,
        "POST",
        f"{url}/apis/apps/v1/namespaces/dev/deployments",
        {"metadata": {"name": "web", "namespace": "dev"}, "spec": {"replicas": 1}},
    )
    meta = created["metadata"]
    assert meta["uid"]
    assert meta["creationTimestamp"]
    assert meta["generation"] == 1
    _, patched = await call(
        session,
        "PATCH",
        f"{url}/apis/apps/v1/namespaces/dev/deployments/web",
        {"spec": {"replicas": 2}},
    )
    assert int(patched["metadata"]["resourceVersion"]) > int(meta["resourceVersion"])
    assert patched["metadata"]["generation"] == 2
    _, status = await call(
        session,
        "PATCH",
        f"{url}/apis/apps/v1/namespaces/dev/deployments/web/status",
        {"status": {"replicas": 2}},
    )
    assert status["metadata"]["generation"] == 2, "a status change is not a spec change"
    _, _unlabelled = await call(
        session,
        "PATCH",
        f"{url}/apis/apps/v1/namespaces/dev/deployments/web",
        {"metadata": {"labels": {"a": "1", "b": "2"}}},
    )
    _, removed = await call(
        session,
        "PATCH",
        f"{url}/apis/apps/v1/namespaces/dev/deployments/web",
        {"metadata": {"labels": {"a": None}}},
    )
    assert removed["metadata"]["labels"] == {"b": "2"}, "a null removes the key (RFC 7386)"


async def test_selectors_and_pages(api: tuple[Emulator, str, aiohttp.ClientSession]) -> None:
    emulator, url, session = api
    await pods(emulator, url, session, 7)
    _, found = await call(session, "GET", f"{url}/api/v1/pods", labelSelector="app=a")
    assert [p["metadata"]["name"] for p in found["items"]] == ["p1", "p3", "p5"]
    _, found = await call(
        session,
        "GET",
        f"{url}/api/v1/pods",
        fieldSelector="spec.nodeName=node-1,status.phase!=Failed",
    )
    assert [p["metadata"]["name"] for p in found["items"]] == ["p1"]

    names: list[str] = []
    token = None
    while True:
        _, page = await call(
            session,
            "GET",
            f"{url}/api/v1/pods",
            limit="3",
            **({"continue": token} if token else {}),
        )
        names += [p["metadata"]["name"] for p in page["items"]]
        token = page["metadata"].get("continue")
        if not token:
            break
    assert names == [f"p{n}" for n in range(7)]


async def test_continue_tokens_expire_with_410(
    api: tuple[Emulator, str, aiohttp.ClientSession],
) -> None:
    emulator, url, session = api
    await pods(emulator, url, session, 5)
    _, page = await call(session, "GET", f"{url}/api/v1/pods", limit="2")
    emulator.expire_continue_tokens()
    status, error = await call(
        session,
        "GET",
        f"{url}/api/v1/pods",
        limit="2",
        **{"continue": page["metadata"]["continue"]},
    )
    assert status == 410
    assert error["reason"] == "Expired"


async def test_watch_from_a_version_and_410_after_compaction(
    api: tuple[Emulator, str, aiohttp.ClientSession],
) -> None:
    emulator, url, session = api
    await pods(emulator, url, session, 2)
    since = str(emulator.resource_version)
    seen: list[tuple[str, str]] = []

    async def watch() -> None:
        async with session.get(
            f"{url}/api/v1/pods", params={"watch": "true", "resourceVersion": since}
        ) as stream:
            async for line in stream.content:
                if line.strip():
                    event = json.loads(line)
                    seen.append((event["type"], event["object"]["metadata"]["name"]))
                    return

    task = asyncio.create_task(watch())
    await asyncio.sleep(0.2)
    await call(session, "DELETE", f"{url}/api/v1/namespaces/dev/pods/p0")
    await asyncio.wait_for(task, 5)
    assert seen == [("DELETED", "p0")], "only what happened after the version, not a replay"

    emulator.compact()
    async with session.get(
        f"{url}/api/v1/pods", params={"watch": "true", "resourceVersion": since}
    ) as stream:
        line = await asyncio.wait_for(stream.content.readline(), 5)
        while not line.strip():
            line = await asyncio.wait_for(stream.content.readline(), 5)
    event = json.loads(line)
    assert (event["type"], event["object"]["code"]) == ("ERROR", 410)


async def test_watches_can_be_ended_and_the_server_restarted_on_its_port() -> None:
    async with Emulator() as emulator, ApiServer(emulator) as server, aiohttp.ClientSession() as s:
        emulator.resources["v1/pods"] = kmock.ResourceInfo()
        await pods(emulator, server.url, s, 1)
        since = str(emulator.resource_version)
        async with s.get(
            f"{server.url}/api/v1/pods", params={"watch": "true", "resourceVersion": since}
        ) as stream:
            await asyncio.sleep(0.2)
            emulator.end_watches()
            assert await asyncio.wait_for(stream.content.read(), 5) == b"", "ended, cleanly"

        port = server.port
        watching = await s.get(f"{server.url}/api/v1/pods", params={"watch": "true"})
        await server.stop()
        with pytest.raises(aiohttp.ClientError):
            await asyncio.wait_for(watching.content.read(), 5)  # reset, not ended
        with pytest.raises(aiohttp.ClientConnectionError):
            await call(s, "GET", f"{server.url}/api/v1/pods")  # refused
        await server.start()
        assert server.port == port
        status, found = await call(s, "GET", f"{server.url}/api/v1/pods")
        assert (status, [p["metadata"]["name"] for p in found["items"]]) == (200, ["p0"])


async def test_scale_and_logs_subresources(
    api: tuple[Emulator, str, aiohttp.ClientSession],
) -> None:
    emulator, url, session = api
    await call(
        session,
        "POST",
        f"{url}/apis/apps/v1/namespaces/dev/deployments",
        {"metadata": {"name": "web", "namespace": "dev"}, "spec": {"replicas": 1}},
    )
    _, scale = await call(
        session,
        "PATCH",
        f"{url}/apis/apps/v1/namespaces/dev/deployments/web/scale",
        {"spec": {"replicas": 4}},
    )
    assert scale["kind"] == "Scale"
    assert scale["spec"]["replicas"] == 4
    _, deployment = await call(session, "GET", f"{url}/apis/apps/v1/namespaces/dev/deployments/web")
    assert deployment["spec"]["replicas"] == 4

    await pods(emulator, url, session, 1)
    emulator.write_log("dev", "p0", "one", "two", "three")
    _, tail = await call(session, "GET", f"{url}/api/v1/namespaces/dev/pods/p0/log", tailLines="2")
    assert tail == "two\nthree\n"
    assert (await call(session, "GET", f"{url}/api/v1/namespaces/dev/pods/nope/log"))[0] == 404
    assert (
        "GET",
        "/api/v1/namespaces/dev/pods/p0/log",
        {"tailLines": "2"},
    ) in emulator.requests_log


async def test_pod_logs_are_stamped_and_read_since_a_time_as_the_kubelet_does(
    api: tuple[Emulator, str, aiohttp.ClientSession],
) -> None:
    emulator, url, session = api
    await pods(emulator, url, session, 1)
    at = datetime.datetime(2026, 12, 1, 16, 0, 1, 500000, tzinfo=datetime.UTC)
    emulator.write_log("dev", "p0", "one", "two", at=at)
    emulator.write_log("dev", "p0", "three", at=at + datetime.timedelta(seconds=1))
    log = f"{url}/api/v1/namespaces/dev/pods/p0/log"
    _, stamped = await call(session, "GET", log, timestamps="true", tailLines="2")
    assert stamped == ("2026-12-01T16:00:01.500001000Z two\n2026-12-01T16:00:02.500000000Z three\n")
    _, since = await call(session, "GET", log, sinceTime="2026-12-01T16:00:02Z")
    assert since == "three\n"
    _, both = await call(session, "GET", log, sinceTime="2026-12-01T16:00:01Z", tailLines="1")
    assert both == "three\n"
