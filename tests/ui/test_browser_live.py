"""Changes made behind Asgard's back show on a page already open, without reloading it:
a Deployment scaled in the Kubernetes emulator, a container started on the Docker Engine
with Asgard's labels. The page is marked before the change; the mark still being there
after proves it was not reloaded."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from asgard.http.sessions import COOKIE
from tests.support.browser import open_live, settles
from tests.support.dashboard_data import APPS
from tests.support.dashboard_fleet import DashboardFleet
from tests.ui.conftest import Watched, log_in

SHOWS_WITHIN_MS = 8_000
"""The dashboard's target is 2 s (bench/ui.py measures it); a loaded test machine gets more."""
MARK = "window.__notReloaded"


def mark(page: Page) -> None:
    page.evaluate(f"{MARK} = true")


def not_reloaded(page: Page) -> bool:
    return bool(page.evaluate(f"{MARK} === true"))


def desired(fleet: DashboardFleet, cluster: str, app: str) -> int:
    return int(fleet.ok("GET", f"/clusters/{cluster}/apps/{app}")["app"]["instances"]["desired"])


@pytest.mark.parametrize("path", ["/ui/apps", "/ui/apps?cluster=k8s"], ids=["all", "filtered"])
def test_a_deployment_scaled_behind_asgards_back_shows_on_the_open_page(
    admin: Page, watched: Watched, fleet: DashboardFleet, path: str
) -> None:
    open_live(admin, path)
    line = admin.locator("main tbody tr[data-cluster='k8s']").filter(has_text=APPS["k8s"])
    expect(line).to_contain_text("/ 2")
    mark(admin)
    try:
        fleet.scale_deployment(APPS["k8s"], 3)
        expect(line).to_contain_text("/ 3", timeout=SHOWS_WITHIN_MS)
        assert not_reloaded(admin), "the row changed in place"
    finally:
        fleet.scale_deployment(APPS["k8s"], 2)
    expect(line).to_contain_text("/ 2", timeout=SHOWS_WITHIN_MS)
    assert not_reloaded(admin)
    assert watched.problems == []


def test_a_container_started_on_the_engine_shows_on_the_open_page(
    admin: Page, watched: Watched, fleet: DashboardFleet
) -> None:
    open_live(admin, "/ui/apps")
    rows = admin.locator("main tbody tr[data-cluster='docker']")
    expect(rows.filter(has_text=APPS["docker"])).to_have_count(1)
    mark(admin)
    container = fleet.start_container("sneaky")
    try:
        expect(rows.filter(has_text="sneaky")).to_have_count(1, timeout=SHOWS_WITHIN_MS)
        assert not_reloaded(admin), "the row was added in place"
    finally:
        fleet.daemon.cli("rm", "-f", container)
    expect(rows.filter(has_text="sneaky")).to_have_count(0, timeout=SHOWS_WITHIN_MS)
    settles(
        lambda: "sneaky" not in fleet.call("GET", "/apps?cluster=docker").text,
        "the container gone from Asgard too",
        10,
    )
    assert watched.problems == []


def test_the_app_page_follows_a_scale_made_elsewhere(
    admin: Page, watched: Watched, fleet: DashboardFleet
) -> None:
    open_live(admin, f"/ui/clusters/mesos/apps/{APPS['mesos']}")
    summary = admin.locator("#app-summary")
    expect(summary).to_contain_text("of 2 desired")
    mark(admin)
    try:
        fleet.ok("PATCH", f"/clusters/mesos/apps/{APPS['mesos']}", json={"instances": 3})
        expect(summary).to_contain_text("of 3 desired", timeout=SHOWS_WITHIN_MS)
        assert not_reloaded(admin)
    finally:
        fleet.ok("PATCH", f"/clusters/mesos/apps/{APPS['mesos']}", json={"instances": 2})
    settles(lambda: desired(fleet, "mesos", APPS["mesos"]) == 2, "web-mesos back to 2", 10)
    assert watched.problems == []


def test_a_page_whose_key_is_revoked_elsewhere_goes_to_the_login(
    page: Page, watched: Watched, fleet: DashboardFleet
) -> None:
    """The session was made from a key revoked meanwhile (by its owner, elsewhere): the
    open page's stream ends with a ``revoked`` event, the page is read again, and the
    reader is on the login page, without anything done on the page."""
    made = fleet.ok("POST", "/users/me/tokens", status=201, key=fleet.viewer_key, json={})
    token = fleet.loop.run(log_in(fleet, made["token"]["key"]))
    page.context.add_cookies(
        [{"name": COOKIE, "value": token, "url": fleet.url, "httpOnly": True, "sameSite": "Strict"}]
    )
    open_live(page, "/ui/apps")
    expect(page.locator("main tbody tr[data-cluster='docker']").first).to_be_visible()
    fleet.ok("DELETE", f"/users/me/tokens/{made['token']['id']}", status=204, key=fleet.viewer_key)
    page.wait_for_url("**/ui/login**", timeout=SHOWS_WITHIN_MS)
    expect(page.locator("input[name='key']")).to_be_visible()
