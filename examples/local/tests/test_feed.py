"""The change feed: the supervisor says what changed, and a cache kept by the feed shows
what happened on the host without waiting for its resync."""

from __future__ import annotations

from pathlib import Path

from asgard_local.feed import LocalFeed
from local_support import DEV, eventually, running_cluster

from asgard.backends.contract import AppsBackend, JobsBackend
from asgard.backends.feeds import Signal
from asgard.events import EventHub
from asgard.models import AppSpec, JobSpec


async def test_signals_say_what_changed_and_where(tmp_path: Path) -> None:
    async with running_cluster(tmp_path) as running:
        assert isinstance(running.cluster.feed, LocalFeed)
        signals = running.cluster.feed.signals()
        assert await anext(signals) == Signal.everything(), "a new reader reads everything"
        spec = JobSpec(cluster="local", name="quick", image="host", command=["true"])
        await running.call(DEV, JobsBackend.create_job, spec, None)
        seen = await anext(signals)
        assert "jobs" in seen.resources
        assert seen.namespace == "dev"
        await signals.aclose()


async def test_a_cache_shows_what_the_host_did_without_a_resync(tmp_path: Path) -> None:
    async with running_cluster(tmp_path, hub=EventHub(), resync_s=3600) as running:
        listed = await running.orchestrator.fan_out(DEV, None, AppsBackend.list_apps)
        assert listed.items == []
        spec = AppSpec(cluster="local", id="web", image="host", cmd=["sleep", "600"])
        await running.host.apps.create(DEV, spec)  # behind Asgard's back: no write-through

        async def shown() -> bool:
            found = await running.orchestrator.fan_out(DEV, None, AppsBackend.list_apps)
            return [(a.id, a.instances.running) for a in found.items] == [("web", 1)]

        await eventually(shown, "the cache shows the app and its running instance")
