"""Each client builds its cluster's paths in one place: every segment quoted whole, none
climbing; and an id that climbs is refused before anything is sent."""

from __future__ import annotations

import asyncio

import pytest

from asgard.backends.common import api_path
from asgard.backends.docker.client import DockerClient
from asgard.backends.kubernetes.client import KubeClient
from asgard.backends.kubernetes.config import KubernetesClusterConfig
from asgard.backends.mesos.chronos import Chronos
from asgard.backends.mesos.http import JsonHttp
from asgard.backends.mesos.marathon import Marathon
from asgard.errors import NotFound

CLIMBING = ["..", ".", ""]
HOSTILE = {
    "../../kube-system": "..%2F..%2Fkube-system",
    "a/b": "a%2Fb",
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
    assert client.path("containers", "../../x", "json") == "/containers/..%2F..%2Fx/json"
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
    assert client.path("api", "v1", "namespaces", "dev", "pods", "a/b") == (
        "/api/v1/namespaces/dev/pods/a%2Fb"
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
    assert http.path("v1", "scheduler", "job", "dev-a/b") == "/v1/scheduler/job/dev-a%2Fb"
    for marathon_id in ("dev/../ops/web", "dev//web", "dev/./web"):
        with pytest.raises(NotFound):
            marathon.app_path(marathon_id)

    async def climb() -> None:
        await chronos.delete("..")

    with pytest.raises(NotFound):
        asyncio.run(climb())
