"""What changes a cluster's health: a call that reached one of its servers. A read Asgard
answers from its own records, reaching none, says nothing of it (a Docker Engine that
answers HTML is down, however often its kept schedules are listed)."""

from __future__ import annotations

import asyncio

from asgard.backends.docker.config import DockerClusterConfig
from tests.conftest import build
from tests.support.wrong_answers import WrongAnswers


async def test_a_call_that_reaches_no_server_leaves_the_health_as_it_was() -> None:
    async with WrongAnswers("html") as server:
        cluster = await build(DockerClusterConfig(name="html", url=server.url, timeout_s=2))
        try:
            await cluster.probe()
            status = cluster.known_status()
            assert status.status == "unreachable"
            assert status.error is not None
            assert "text/html" in status.error
            await cluster.guarded(lambda: asyncio.sleep(0), 2)  # reaches nothing
            assert cluster.known_status().status == "unreachable"
            assert cluster.health.last_contact_at is None, "it never answered anything usable"
        finally:
            await cluster.close()
