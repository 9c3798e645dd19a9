"""A Docker Engine stopped and started again under a running ``asgard serve``.

While it is down, reads that need it answer 502 naming the cluster, and at once rather
than after a timeout; within 10 s of its return the cache is current again, the app is
as it was (its containers come back with the engine, as after a host's dockerd restart)
and ``/events``, held open through the outage, carries changes again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from testbed.asgard_process import NAMESPACE, running_asgard
from tests.support.dockerd import SERVE_FOREVER, TEST_IMAGE, DockerDaemon, start_daemon
from tests.support.remote import Api
from tests.support.resources import needs
from tests.support.watching import Listener, eventually

BACK_WITHIN_S = 10.0
APP = "/clusters/local/apps/web"


@pytest.fixture
@needs("docker")
def daemon() -> Iterator[DockerDaemon]:
    """An engine of this test's own: stopping the session's would break other tests."""
    started = start_daemon("fault")
    yield started
    started.stop()


async def test_an_engine_stopped_and_started_again(daemon: DockerDaemon, tmp_path: Path) -> None:
    clusters = [{"name": "local", "kind": "docker", "url": daemon.url, "timeout_s": 5}]
    async with (
        running_asgard(tmp_path / "asgard", clusters, role="operator") as asgard,
        aiohttp.ClientSession() as session,
    ):
        api = Api.of(session, asgard)
        spec = {"cluster": "local", "id": "web", "image": TEST_IMAGE, "args": SERVE_FOREVER}
        await api.ok("POST", "/apps", 201, json={**spec, "instances": 2})

        async def running(count: int) -> bool:
            answer = await api.call("GET", APP)
            return answer.status == 200 and answer.body["app"]["instances"]["running"] == count

        await eventually(lambda: running(2), "two instances running", 60)
        listener = Listener(
            await session.get(
                f"{asgard.url}/events", headers=asgard.headers, timeout=aiohttp.ClientTimeout()
            )
        )
        listener.start()

        await asyncio.to_thread(daemon.halt)
        started = time.monotonic()
        answer = await api.call("GET", "/apps")
        assert answer.status == 502, answer.text
        assert [e["cluster"] for e in answer.body["errors"]] == ["local"]
        answer = await api.call("GET", APP)
        assert answer.status == 502, answer.text
        assert answer.body["errors"][0]["cluster"] == "local"
        assert "Traceback" not in answer.text
        assert time.monotonic() - started < 5, "the engine's socket refuses at once"

        async def cluster_is(status: str, cache: str | None = None) -> bool:
            answer = await api.call("GET", "/clusters")
            cluster = answer.body["clusters"][0]
            return bool(
                answer.status == 200
                and cluster["status"] == status
                and cache in (None, cluster["cache"])
            )

        await eventually(lambda: cluster_is("unreachable"), "GET /clusters says it is down", 30)

        await asyncio.to_thread(daemon.resume)
        back = time.monotonic()
        await eventually(lambda: cluster_is("ok", "current"), "the cache current", BACK_WITHIN_S)
        print(f"cache current {time.monotonic() - back:.1f} s after the engine answered again")
        await eventually(lambda: running(2), "both instances back", BACK_WITHIN_S)
        app = (await api.ok("GET", APP))["app"]
        assert app["image"] == TEST_IMAGE
        assert app["instances"]["desired"] == 2

        # A change behind Asgard's back still reaches the stream held open through it all.
        daemon.cli(
            "run", "-d", "--label", f"asgard.namespace={NAMESPACE}", "--label",
            "asgard.app=sneaky", TEST_IMAGE, *SERVE_FOREVER,
        )  # fmt: skip
        event = await listener.hears("app", "sneaky", "added", limit_s=20)
        assert event["cluster"] == "local"
        assert event["change"] == "added"
        listener.close()
