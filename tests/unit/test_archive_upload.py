"""An upload into a container that the engine fails once is tried once more, whole.

Podman 4.3 now and then answers ``PUT /containers/{id}/archive`` with a 500 ("passing
bulk input to subprocess: write |1: broken pipe") that the same upload then passes. The
engine here is a small server playing that failure: what is under test is the client's
retry, and that the second try sends the archive from its start."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from asgard.backends.docker.client import DockerClient
from asgard.errors import ClusterError

ARCHIVE = b"a tar archive, as far as this engine cares" * 100


class FlakyEngine:
    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.bodies: list[bytes] = []
        self.app = web.Application()
        self.app.router.add_get("/{version}/version", self.version)
        self.app.router.add_get("/version", self.version)
        self.app.router.add_put("/{version}/containers/{id}/archive", self.archive)
        self.app.router.add_put("/containers/{id}/archive", self.archive)

    async def version(self, _request: web.Request) -> web.Response:
        return web.json_response({"Version": "4.3.1", "ApiVersion": "1.41"})

    async def archive(self, request: web.Request) -> web.Response:
        self.bodies.append(await request.read())
        if len(self.bodies) <= self.failures:
            return web.json_response(
                {"message": "passing bulk input to subprocess: write |1: broken pipe"},
                status=500,
            )
        return web.Response(status=200)


@pytest.fixture
async def engine(request: pytest.FixtureRequest) -> AsyncIterator[tuple[FlakyEngine, str]]:
    flaky = FlakyEngine(failures=request.param)
    server = TestServer(flaky.app, host="127.0.0.1")
    await server.start_server()
    try:
        yield flaky, f"tcp://127.0.0.1:{server.port}"
    finally:
        await server.close()


@pytest.mark.parametrize("engine", [1], indirect=True)
@pytest.mark.parametrize("as_file", [False, True], ids=["bytes", "file"])
async def test_an_upload_the_engine_failed_once_is_sent_again_whole(
    engine: tuple[FlakyEngine, str], as_file: bool
) -> None:
    flaky, url = engine
    client = DockerClient(cluster="podman", url=url, timeout_s=5)
    try:
        tar = io.BytesIO(b"skipped" + ARCHIVE) if as_file else ARCHIVE
        if isinstance(tar, io.BytesIO):
            tar.seek(len(b"skipped"))  # sent from where the caller left it, both times
        await client.put_archive("c1", "/input", tar)
    finally:
        await client.close()
    assert flaky.bodies == [ARCHIVE, ARCHIVE]


@pytest.mark.parametrize("engine", [2], indirect=True)
async def test_an_upload_failed_twice_is_the_clusters_error(
    engine: tuple[FlakyEngine, str],
) -> None:
    flaky, url = engine
    client = DockerClient(cluster="podman", url=url, timeout_s=5)
    try:
        with pytest.raises(ClusterError, match="broken pipe"):
            await client.put_archive("c1", "/input", ARCHIVE)
    finally:
        await client.close()
    assert len(flaky.bodies) == 2, "tried twice, not more"
