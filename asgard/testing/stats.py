"""App stats: what an app's instances use, over a window where the cluster keeps history,
else a sample taken now. What every kind that measures apps must get right."""

from __future__ import annotations

import pytest

from asgard.backends.contract import AppsBackend
from asgard.errors import NotFound
from asgard.models import AppPatch, AppStats, StatsWindow
from asgard.testing.common import DEV, OPS, running, settle, web
from asgard.testing.coverage import exercises
from asgard.testing.harness import Harness

__all__ = [
    "test_a_suspended_app_has_stats_of_no_instance",
    "test_stats_say_what_the_instances_use",
]


def plausible(stats: AppStats, window: StatsWindow, instances: int) -> None:
    """Figures that are unknown are null, never negative; an average says its window."""
    assert stats.source in ("average", "sample")
    if stats.source == "average":
        assert stats.window == window, "an average over the window asked for"
    for figure in (stats.cpu_pct, stats.ram_pct, stats.cpu_thr_pct):
        assert figure is None or figure >= 0
    assert 0 <= stats.instances <= instances, "no more instances than the app has"


@exercises(AppsBackend.create_app, AppsBackend.app_stats)
async def test_stats_say_what_the_instances_use(harness: Harness) -> None:
    await harness.call(DEV, AppsBackend.create_app, web(harness, instances=2))
    await running(harness, "shop/web", 2)
    for window in StatsWindow:
        stats = await harness.call(DEV, AppsBackend.app_stats, "shop/web", window)
        plausible(stats, window, 2)
    with pytest.raises(NotFound):
        await harness.call(OPS, AppsBackend.app_stats, "shop/web", StatsWindow.ONE_MINUTE)
    with pytest.raises(NotFound):
        await harness.call(DEV, AppsBackend.app_stats, "shop/nothing", StatsWindow.ONE_MINUTE)


@exercises(AppsBackend.create_app, AppsBackend.update_app, AppsBackend.app_stats)
async def test_a_suspended_app_has_stats_of_no_instance(harness: Harness) -> None:
    """Scaled to zero it is still an app: its stats answer, of no instance."""
    await harness.call(DEV, AppsBackend.create_app, web(harness, instances=1))
    await running(harness, "shop/web", 1)
    await harness.call(DEV, AppsBackend.update_app, "shop/web", AppPatch(instances=0))

    async def stopped() -> bool:
        tasks = await harness.call(DEV, AppsBackend.list_tasks, "shop/web")
        return not [t for t in tasks if t.state == "running"]

    await settle(harness, stopped, "no instance running")
    stats = await harness.call(DEV, AppsBackend.app_stats, "shop/web", StatsWindow.ONE_MINUTE)
    plausible(stats, StatsWindow.ONE_MINUTE, 0)
