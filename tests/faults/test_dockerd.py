"""A Docker Engine stopped and started again under a running ``asgard serve``.

While it is down, reads that need it answer 502 naming the cluster, and at once rather
than after a timeout; within 10 s of its return the cache is current again, the app is
as it was (its containers come back with the engine, as after a host's dockerd restart)
and ``/events``, held open through the outage, carries changes again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bench.asgard_process import NAMESPACE, RunningAsgard, running_asgard
from tests.support.dockerd import SERVE_FOREVER, TEST_IMAGE, DockerDaemon, start_daemon
from tests.support.sse import sse

BACK_WITHIN_S = 10.0
APP = "/clusters/local/apps/web"


@pytest.fixture
def daemon() -> Iterator[DockerDaemon]:
    """An engine of this test's own: stopping the session's would break other tests."""
    started = start_daemon("fault")
    yield started
    started.stop()


async def call(
    session: aiohttp.ClientSession, asgard: RunningAsgard, method: str, path: str, **kw: Any
) -> tuple[int, Any]:
    async with session.request(method, f"{asgard.url}{path}", headers=asgard.headers, **kw) as r:
        return r.status, await r.json()


async def until(check: Callable[[], Awaitable[bool]], limit_s: float, what: str) -> float:
    """Seconds until ``check`` holds; fails naming ``what`` after ``limit_s``."""
    started = time.monotonic()
    while time.monotonic() - started < limit_s:
        if await check():
            return time.monotonic() - started
        await asyncio.sleep(0.2)
    raise AssertionError(f"not within {limit_s:g} s: {what}")


async def next_app_event(events: AsyncIterator[dict[str, Any]], app: str) -> dict[str, Any]:
    async with asyncio.timeout(20):
        async for event in events:
            if event["kind"] == "app" and event["id"] == app:
                return event
    raise AssertionError("the stream ended")


async def test_an_engine_stopped_and_started_again(daemon: DockerDaemon, tmp_path: Path) -> None:
    clusters = [{"name": "local", "kind": "docker", "url": daemon.url, "timeout_s": 5}]
    async with (
        running_asgard(tmp_path / "asgard", clusters, role="operator") as asgard,
        aiohttp.ClientSession() as session,
    ):
        spec = {"cluster": "local", "id": "web", "image": TEST_IMAGE, "args": SERVE_FOREVER}
        status, body = await call(session, asgard, "POST", "/apps", json={**spec, "instances": 2})
        assert status == 201, body

        async def running(count: int) -> bool:
            status, body = await call(session, asgard, "GET", APP)
            return status == 200 and body["app"]["instances"]["running"] == count

        await until(lambda: running(2), 60, "two instances running")
        stream = await session.get(
            f"{asgard.url}/events", headers=asgard.headers, timeout=aiohttp.ClientTimeout()
        )
        events = sse(stream)

        await asyncio.to_thread(daemon.halt)
        started = time.monotonic()
        status, body = await call(session, asgard, "GET", "/apps")
        assert status == 502, body
        assert [e["cluster"] for e in body["errors"]] == ["local"]
        status, body = await call(session, asgard, "GET", APP)
        assert status == 502, body
        assert body["errors"][0]["cluster"] == "local"
        assert "Traceback" not in str(body)
        assert time.monotonic() - started < 5, "the engine's socket refuses at once"

        async def down() -> bool:
            status, body = await call(session, asgard, "GET", "/clusters")
            return bool(status == 200 and body["clusters"][0]["status"] == "unreachable")

        await until(down, 30, "GET /clusters says the engine is down")

        await asyncio.to_thread(daemon.resume)

        async def current() -> bool:
            status, body = await call(session, asgard, "GET", "/clusters")
            cluster = body["clusters"][0]
            return bool(
                status == 200 and cluster["status"] == "ok" and cluster["cache"] == "current"
            )

        took = await until(current, BACK_WITHIN_S, "the cache current again")
        print(f"cache current {took:.1f} s after the engine answered again")
        await until(lambda: running(2), BACK_WITHIN_S, "both instances back")
        status, body = await call(session, asgard, "GET", APP)
        assert body["app"]["image"] == TEST_IMAGE
        assert body["app"]["instances"]["desired"] == 2

        # A change behind Asgard's back still reaches the stream held open through it all.
        daemon.cli(
            "run", "-d", "--label", f"asgard.namespace={NAMESPACE}", "--label",
            "asgard.app=sneaky", TEST_IMAGE, *SERVE_FOREVER,
        )  # fmt: skip
        event = await next_app_event(events, "sneaky")
        assert event["cluster"] == "local"
        assert event["change"] == "added"
        stream.close()
