"""``asgard serve`` stopped with SIGTERM while clients follow logs: the followed streams
end at once, cleanly, rather than hold the shutdown up for its whole grace period."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import aiohttp

from testbed.asgard_process import running_asgard
from tests.faults.test_sigterm import exited
from tests.support.dockerd import TEST_IMAGE, DockerDaemon
from tests.support.watching import eventually

GRACE_S = 20
APP = "/clusters/local/apps/talk"
TALK = ["sh", "-c", "trap 'exit 0' TERM; while true; do echo hello; sleep 0.2; done"]


async def test_followed_logs_end_when_asgard_stops(engine: DockerDaemon, tmp_path: Path) -> None:
    clusters = [{"name": "local", "kind": "docker", "url": engine.url, "timeout_s": 5}]
    settings = {"ASGARD_SHUTDOWN_GRACE_S": str(GRACE_S)}
    async with (
        running_asgard(tmp_path, clusters, role="operator", settings=settings) as asgard,
        aiohttp.ClientSession(headers=asgard.headers) as session,
    ):
        spec = {"cluster": "local", "id": "talk", "image": TEST_IMAGE, "args": TALK}
        async with session.post(f"{asgard.url}/apps", json=spec) as created:
            assert created.status == 201, await created.text()

        async def running() -> bool:
            async with session.get(f"{asgard.url}{APP}/tasks") as answer:
                tasks = (await answer.json())["tasks"]
                return any(t["state"] == "running" for t in tasks)

        await eventually(running, "the app runs", 60)
        follows = [
            await session.get(f"{asgard.url}{APP}/logs?{query}")
            for query in ("follow=true", "tasks=all&follow=true&tail=1")
        ]
        for follow in follows:
            assert follow.status == 200
            async with asyncio.timeout(10):
                assert b"hello" in await follow.content.readline()

        sent = time.monotonic()
        os.kill(asgard.pid, signal.SIGTERM)
        for follow in follows:
            async with asyncio.timeout(10):
                await follow.content.read()  # to its clean end
            follow.close()

        async def gone() -> bool:
            return exited(asgard.pid)

        await eventually(gone, "the process exits", GRACE_S)
        assert time.monotonic() - sent < GRACE_S / 2, "no followed log held the shutdown up"
        assert "Traceback" not in asgard.log.read_text()
