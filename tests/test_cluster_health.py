"""What changes a cluster's health: a call that reached one of its servers. A read Asgard
answers from its own records, reaching none, says nothing of it (a Docker Engine that
answers HTML is down, however often its kept schedules are listed)."""

from __future__ import annotations

import asyncio

import pytest

from asgard.backends.docker.config import DockerClusterConfig
from asgard.events import EventHub
from tests.conftest import build, running_mesos
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


async def test_a_probe_that_finds_a_part_down_does_not_hurry_the_feed_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A probe that hears every part brings a cut feed back at once; one that finds
    Marathon down (its masters answering) leaves the feed to its back-off: each reconnect
    asks Marathon for its event stream, and re-reads everything once it has it."""
    async with running_mesos() as mesos:
        cluster = mesos.cluster
        mesos.orchestrator.enable_caches(EventHub())
        assert cluster.cache is not None
        pokes: list[str] = []
        monkeypatch.setattr(cluster.cache, "reconnect_now", lambda: pokes.append(cluster.name))
        for instance in mesos.marathon.misbehaviour:
            instance.down = True
        await cluster.probe()
        assert "marathon" in (cluster.known_status().error or "")
        assert pokes == [], "a part is down: the feed waits out its back-off"
        for instance in mesos.marathon.misbehaviour:
            instance.down = False
        await cluster.probe()
        assert cluster.known_status().error is None
        assert pokes, "every part answers: the feed is tried again now"


REMOVED = "cluster going was removed while it was being asked"


async def test_a_cluster_asked_while_it_is_removed_says_so_rather_than_fail_the_request() -> None:
    """``GET /clusters`` probes a cluster nobody probed yet; if the cluster is removed
    meanwhile (an administrator, another replica's change), its client is closed under the
    call. That is the cluster's entry in the answer, not a 500 (CI run 13: aiohttp's
    ``assert self._connector is not None`` reached the request)."""
    from asgard.backends.kubernetes.config import KubernetesClusterConfig

    async with WrongAnswers("stall") as server:
        cluster = await build(KubernetesClusterConfig(name="going", url=server.url, timeout_s=1))
        asked = asyncio.create_task(cluster.status(live=True))
        await asyncio.sleep(0.3)  # the probe waits on the server
        await cluster.close()
        status = await asked
        assert (status.status, status.error) == ("unreachable", REMOVED)
        again = await cluster.status(live=True)  # and no new session is opened for it
        assert (again.status, again.error) == ("unreachable", REMOVED)
