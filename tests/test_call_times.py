"""Each cluster's calls are timed in the guard: reads, writes and probes, answered or not;
an answer from the cache's memory is no call and is not counted."""

from __future__ import annotations

import pytest

from asgard.backends.call_times import CallKind
from asgard.backends.contract import AgentsBackend, AppsBackend
from asgard.backends.orchestrator import Orchestrator
from asgard.errors import NotFound
from asgard.events import EventHub
from asgard.models import Account
from tests.support.static_backend import static_cluster
from tests.test_cache import eventually

ALL = Account(id=1, name="all", namespace="all")


def count(orchestrator: Orchestrator, kind: CallKind) -> int:
    tally = orchestrator.clusters["lab"].calls.tallies.get(kind)
    return 0 if tally is None else tally.count


async def test_reads_writes_and_probes_are_timed_not_answers_from_memory() -> None:
    cluster = await static_cluster("lab", [{"id": "a1"}], resync_s=3600)
    fleet = Orchestrator([cluster])
    fleet.enable_caches(EventHub())
    await fleet.start()
    try:
        cache = cluster.cache
        assert cache is not None
        await eventually(lambda: cache.current, "the cache is current")
        await fleet.fan_out(ALL, None, AgentsBackend.list_agents)
        reads = count(fleet, "read")
        assert reads >= 1, "the scope's first read went to the cluster"
        for _ in range(5):
            await fleet.fan_out(ALL, None, AgentsBackend.list_agents)
        assert count(fleet, "read") == reads, "answered from memory: no call"

        await cluster.probe()
        assert count(fleet, "read") == reads + 1
        with pytest.raises(NotFound):
            await fleet.call(ALL, "lab", AppsBackend.restart_app, "web")
        assert count(fleet, "write") == 1, "a write, refused, is a call answered"
    finally:
        await fleet.close()


async def test_a_call_that_times_out_is_counted_with_its_whole_wait() -> None:
    slow = await static_cluster("lab", [{"id": "a1"}], delay_s=5.0, timeout_s=0.3)
    fleet = Orchestrator([slow])
    try:
        await slow.probe()  # notes the timeout in the cluster's health rather than raising it
        tally = slow.calls.tallies["read"]
        assert tally.count == 1
        assert tally.cumulative()[:2] == [0, 0], "not within 0.01 s nor 0.05 s: it waited 0.3 s"
        assert tally.cumulative()[-1] == 1
        assert slow.health.error is not None
        assert "did not answer in 0.3 s" in slow.health.error
    finally:
        await fleet.close()
