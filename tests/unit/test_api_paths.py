"""Each client builds its cluster's paths in one place: every segment quoted whole, none
climbing; and an id that climbs is refused before anything is sent."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from asgard.backends.common import api_path
from asgard.backends.docker.client import DockerClient
from asgard.backends.kubernetes.client import KubeClient
from asgard.backends.kubernetes.config import KubernetesClusterConfig
from asgard.backends.mesos.chronos import Chronos
from asgard.backends.mesos.marathon import Marathon
from asgard.backends.mesos.transport import JsonHttp
from asgard.errors import NotFound

CLIMBING = ["..", ".", "", "../../kube-system", "a/b", "..\\x", "b/../../ns/x"]
"""Refused whole: a server or a proxy that decodes ``%2F`` before routing reads ``a%2Fb`` as
two segments (the Kubernetes emulator does)."""
HOSTILE = {
    "%2e%2e": "%252e%252e",
    "..%2F": "..%252F",
    "a\x00b": "a%00b",
    "x?y#z": "x%3Fy%23z",
    "a b": "a%20b",
    "new\nline": "new%0Aline",
}


def test_each_segment_is_quoted_whole() -> None:
    assert api_path("api", "v1", "nodes", "node-1.example.com", cluster="c") == (
        "/api/v1/nodes/node-1.example.com"
    )
    for given, sent in HOSTILE.items():
        assert api_path("jobs", given, cluster="c") == f"/jobs/{sent}"


@pytest.mark.parametrize("segment", CLIMBING)
def test_a_climbing_or_empty_segment_is_no_such_object(segment: str) -> None:
    with pytest.raises(NotFound) as raised:
        api_path("apis", "batch", "v1", "namespaces", "dev", "jobs", segment, cluster="k8s")
    assert raised.value.details[0].cluster == "k8s"


def test_the_docker_client_quotes_ids_and_splits_image_references() -> None:
    client = DockerClient(cluster="d", url="unix:///nonexistent.sock", timeout_s=1)
    with pytest.raises(NotFound):
        client.path("containers", "../../x", "json")
    assert client.image_path("busybox:latest") == "/images/busybox%3Alatest/json"
    assert client.image_path("reg:5000/team/app@sha256:ab") == (
        "/images/reg%3A5000/team/app%40sha256%3Aab/json"
    )
    for image in ("../../containers/x", "a//b", "./a", "a/."):
        with pytest.raises(NotFound):
            client.image_path(image)


def test_the_kubernetes_client_quotes_and_refuses_before_sending() -> None:
    config = KubernetesClusterConfig(name="k8s", url="http://127.0.0.1:9")  # nothing listens
    client = KubeClient(config)
    assert client.path("api", "v1", "namespaces", "dev", "pods", "a%2Fb") == (
        "/api/v1/namespaces/dev/pods/a%252Fb"
    )

    async def climb() -> None:
        await client.request(
            "GET", ("apis", "batch", "v1", "namespaces", "dev", "jobs", ".."), what="job"
        )

    with pytest.raises(NotFound):  # not ClusterUnreachable: nothing was sent
        asyncio.run(climb())


def test_the_mesos_clients_quote_and_refuse() -> None:
    http = JsonHttp("m", 1)
    marathon = Marathon(http, ["http://127.0.0.1:9"], None)
    chronos = Chronos(http, "http://127.0.0.1:9", None)
    assert marathon.app_path("/dev/web", "versions", "2017-10-04T18:41:52.123Z") == (
        "/v2/apps/dev/web/versions/2017-10-04T18%3A41%3A52.123Z"
    )
    assert http.path("v1", "scheduler", "job", "dev_a b") == "/v1/scheduler/job/dev_a%20b"
    for marathon_id in ("dev/../ops/web", "dev//web", "dev/./web"):
        with pytest.raises(NotFound):
            marathon.app_path(marathon_id)

    async def climb() -> None:
        await chronos.delete("..")

    with pytest.raises(NotFound):
        asyncio.run(climb())


async def test_the_kubernetes_client_sends_the_path_as_built() -> None:
    """kubernetes_asyncio hands aiohttp a string, which yarl parses again: what reaches the
    server must still be the path as quoted (no ``%2F`` decoded into a separator, no
    ``%2e%2e`` turned into a climbing segment and normalised away)."""
    seen: list[str] = []

    async def record(request: web.Request) -> web.Response:
        seen.append(request.raw_path)
        return web.json_response({"kind": "Pod", "metadata": {"name": "x"}})

    app = web.Application()
    app.router.add_route("GET", r"/{tail:[\s\S]*}", record)
    async with TestServer(app, host="127.0.0.1") as server:
        config = KubernetesClusterConfig(name="k8s", url=str(server.make_url("")).rstrip("/"))
        client = KubeClient(config)
        try:
            for given, sent in HOSTILE.items():
                await client.request(
                    "GET", ("api", "v1", "namespaces", "dev", "pods", given), what="pod"
                )
                assert seen[-1] == f"/api/v1/namespaces/dev/pods/{sent}"
        finally:
            await client.close()
