"""A cluster that stops answering is one line, not a popup: the banner above each table
names it, and its rows stay, greyed, as Asgard last saw them, saying since when. When it
answers again, the banner goes and its rows are current again."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.support.browser import screenshot, settles
from tests.support.dashboard_data import APPS
from tests.support.dashboard_fleet import DashboardFleet

NOTICED_WITHIN_S = 30.0


def shown_after_reloads(page: Page, locator: Locator, count: int, what: str) -> None:
    """Reload until ``locator`` matches ``count`` elements: a cluster's going down is seen
    by Asgard's next probe, not announced on /events."""

    def there() -> bool:
        page.reload()
        return locator.count() == count

    settles(there, what, NOTICED_WITHIN_S)


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
    admin.goto("/ui/apps")
    banner = admin.locator("#failed-clusters")
    shown_after_reloads(admin, banner, 1, "the banner of the failed clusters")
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

    fleet.mesos_up()
    admin.goto("/ui/apps")
    shown_after_reloads(admin, banner, 0, "the banner gone once mesos answers")
    expect(mesos_row).not_to_have_class("stale")
    expect(mesos_row).not_to_contain_text("stale since")
    admin.goto("/ui/")
    expect(fleet_row).to_have_attribute("data-state", "ok")
