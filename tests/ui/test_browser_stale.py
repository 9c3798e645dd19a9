"""A cluster that stops answering is one line, not a popup: the banner above each table
names it, and its rows stay, greyed, as Asgard last saw them, saying since when. When it
answers again, the banner goes and its rows are current again."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import open_live, screenshot
from tests.support.dashboard_data import APPS
from tests.support.dashboard_fleet import DashboardFleet

NOTICED_WITHIN_S = 10.0
"""Asgard probes a cluster that fails every second or two and tells /events at once; without
that event a page would wait for some unrelated change (about 25 s here)."""


MARK = "window.__notReloaded"


def open_marked(page: Page, path: str) -> None:
    """Open a page listening to /events, marked so that a reload would show."""
    open_live(page, path)
    page.evaluate(f"{MARK} = true")


def not_reloaded(page: Page) -> bool:
    return bool(page.evaluate(f"{MARK} === true"))


@pytest.fixture
def mesos_down(fleet: DashboardFleet) -> Iterator[None]:
    fleet.mesos_down()
    try:
        yield
    finally:
        fleet.mesos_up()
        fleet.wait_until_current()


def test_a_cluster_that_stops_answering_is_a_banner_and_stale_rows_until_it_is_back(
    admin: Page, fleet: DashboardFleet, mesos_down: None
) -> None:
    """All of it on pages already open: Asgard tells the cluster's outage and its return
    on /events (``cluster``), and the pages redraw themselves."""
    within_ms = NOTICED_WITHIN_S * 1000
    fleet.mesos_up()  # the page opens while mesos answers, then sees it stop
    fleet.wait_until_current()
    open_marked(admin, "/ui/apps")
    banner = admin.locator("#failed-clusters")
    expect(banner).to_have_count(0)
    fleet.mesos_down()
    expect(banner).to_have_count(1, timeout=within_ms)
    assert not_reloaded(admin), "the banner came without a reload"
    expect(banner).to_contain_text("mesos")
    expect(banner.locator("summary")).to_contain_text("1 cluster failed: mesos")
    banner.locator("summary").click()
    expect(banner.locator("li")).to_contain_text("stale since")
    mesos_row = admin.locator("main tbody tr[data-cluster='mesos']").filter(has_text=APPS["mesos"])
    expect(mesos_row).to_have_class("stale")
    expect(mesos_row).to_contain_text("stale since")
    for cluster in ("docker", "k8s"):  # the others are as they were
        other = admin.locator(f"main tbody tr[data-cluster='{cluster}']")
        expect(other.filter(has_text=APPS[cluster])).not_to_have_class("stale")
    screenshot(admin, "apps-stale")

    admin.goto("/ui/")
    fleet_row = admin.locator("#cluster-mesos")
    expect(fleet_row).to_have_attribute("data-state", "stale")
    expect(fleet_row).to_contain_text("stale")
    screenshot(admin, "fleet-stale")

    open_marked(admin, "/ui/apps")
    expect(banner).to_have_count(1)
    fleet.mesos_up()
    expect(banner).to_have_count(0, timeout=within_ms)
    assert not_reloaded(admin), "the banner went without a reload"
    expect(mesos_row).not_to_have_class("stale")
    expect(mesos_row).not_to_contain_text("stale since")
    admin.goto("/ui/")
    expect(fleet_row).to_have_attribute("data-state", "ok")
