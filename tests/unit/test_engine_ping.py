"""An engine is asked its API version and, by the health probe, its version with the
cheap ``/_ping``: Podman answers ``/version`` by running its package manager ten times
(about 0.4 s of its CPU each, measured on Debian's 4.3), and a probe asks often.

The engine here is a small server with the headers a Docker Engine and Podman send
(checked against both with ``curl``); what is under test is which paths the client asks,
and that an endpoint whose ping does not say is still asked ``/version``."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from asgard.backends.docker.client import DockerClient

PODMAN = {"Api-Version": "1.41", "Server": "Libpod/4.3.1 (linux)"}
DOCKER = {"Api-Version": "1.41", "Server": "Docker/20.10.24+dfsg1 (linux)"}


class Engine:
    def __init__(self, ping_headers: dict[str, str] | None) -> None:
        self.ping_headers = ping_headers
        self.asked: list[str] = []
        self.app = web.Application()
        self.app.router.add_get("/{tail:.*}", self.answer)

    async def answer(self, request: web.Request) -> web.Response:
        path = request.path
        self.asked.append(path)
        if path.endswith("/_ping"):
            if self.ping_headers is None:
                return web.json_response({"message": "page not found"}, status=404)
            return web.Response(text="OK", headers=self.ping_headers)
        if path.endswith("/version"):
            return web.json_response({"Version": "9.9.9", "ApiVersion": "1.40"})
        if path.endswith("/containers/json"):
            return web.json_response([])
        return web.json_response({"message": "page not found"}, status=404)


@pytest.fixture
async def engine(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Engine, DockerClient]]:
    served = Engine(request.param)
    server = TestServer(served.app, host="127.0.0.1")
    await server.start_server()
    client = DockerClient(cluster="e", url=f"tcp://127.0.0.1:{server.port}", timeout_s=5)
    try:
        yield served, client
    finally:
        await client.close()
        await server.close()


@pytest.mark.parametrize(
    ("engine", "version"),
    [(PODMAN, "4.3.1"), (DOCKER, "20.10.24+dfsg1")],
    indirect=["engine"],
    ids=["podman", "docker"],
)
async def test_a_probe_and_a_call_never_ask_version(
    engine: tuple[Engine, DockerClient], version: str
) -> None:
    served, client = engine
    assert await client.version() == version
    assert await client.containers() == []
    assert served.asked == ["/_ping", "/v1.41/_ping", "/v1.41/containers/json"]


@pytest.mark.parametrize(
    ("engine", "api"),
    [({"Api-Version": "1.41"}, "v1.41"), ({"Server": "nginx"}, "v1.40"), (None, "v1.40")],
    indirect=["engine"],
    ids=["no-server", "no-api-version", "no-ping"],
)
async def test_an_endpoint_whose_ping_does_not_say_is_asked_version(
    engine: tuple[Engine, DockerClient], api: str
) -> None:
    served, client = engine
    assert await client.version() == "9.9.9"
    assert await client.containers() == []
    assert served.asked[-2:] == [f"/{api}/version", f"/{api}/containers/json"]
