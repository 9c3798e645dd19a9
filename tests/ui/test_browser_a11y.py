"""Everyone can use it: axe-core (the pinned copy the tests vendor in ``tests/ui/vendor``,
evaluated in the page by Playwright; the dashboard neither ships nor serves it) finds no
serious or critical WCAG 2.2 A/AA violation on any page, in the light theme and in the
dark one; and the main flows work with the keyboard alone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import axe_violations, focus_by_tab, screenshot
from tests.support.dashboard_data import APPS, JOBS, SCHEDULED, WORKFLOWS
from tests.support.dashboard_fleet import DashboardFleet

PAGES = {
    "fleet": "/ui/",
    "fleet-view": "/ui/?q=s&sort=name&dir=desc&limit=1",
    "agents": "/ui/agents",
    "apps": "/ui/apps",
    "jobs": "/ui/jobs",
    "workflows": "/ui/workflows",
    "scheduled-jobs": "/ui/scheduled-jobs",
    "events": "/ui/events",
    "agent": "/ui/clusters/k8s/agents/node-1",
    "app": f"/ui/clusters/k8s/apps/{APPS['k8s']}",
    "scheduled-job": f"/ui/clusters/mesos/scheduled-jobs/{SCHEDULED['mesos']}",
}
"""The job and workflow pages have generated ids: found by their rows (``detail_path``)."""


def detail_path(fleet: DashboardFleet, name: str) -> str:
    if name == "job":
        jobs = fleet.ok("GET", "/jobs?cluster=docker")["jobs"]
        found = next(j for j in jobs if j["name"] == JOBS["docker"])
        return f"/ui/clusters/docker/jobs/{found['id']}"
    flows = fleet.ok("GET", "/workflows?cluster=docker")["workflows"]
    flow = next(w for w in flows if w["name"] == WORKFLOWS["docker"])
    return f"/ui/clusters/docker/workflows/{flow['id']}"


@pytest.mark.parametrize("name", [*PAGES, "job", "workflow"])
def test_axe_finds_no_serious_violation_in_either_theme(
    admin: Page, fleet: DashboardFleet, name: str
) -> None:
    """Each page once, in the light theme and then the dark one: the themes are the
    stylesheet's ``prefers-color-scheme`` alone (no script, no transition), so the page
    shows the other as soon as the browser says it is preferred, without a reload."""
    admin.emulate_media(color_scheme="light")
    admin.goto(PAGES.get(name) or detail_path(fleet, name))
    expect(admin.get_by_role("heading", level=1)).to_be_visible()
    backgrounds = set()
    for scheme in ("light", "dark"):
        admin.emulate_media(color_scheme=scheme)
        backgrounds.add(admin.evaluate("getComputedStyle(document.body).backgroundColor"))
        found = axe_violations(admin)
        assert found == [], f"{name} ({scheme}): {found}"
    assert len(backgrounds) == 2, f"the dark theme did not show: {backgrounds}"
    if name in ("fleet", "apps"):
        screenshot(admin, f"{name}-dark")


def test_the_login_page_passes_axe_in_both_themes(page: Page) -> None:
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        page.goto("/ui/login")
        assert axe_violations(page) == [], scheme


# the keyboard alone


def test_logging_in_and_moving_between_pages_with_the_keyboard(
    page: Page, fleet: DashboardFleet
) -> None:
    page.goto("/ui/login")
    focus_by_tab(page, "el.id === 'key'")
    page.keyboard.type(fleet.admin_key)
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{fleet.url}/ui/")
    focus_by_tab(page, "el.matches('nav a[href=\"/ui/apps\"]')")
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{fleet.url}/ui/apps")
    expect(page.get_by_role("link", name="Apps", exact=True)).to_have_attribute(
        "aria-current", "page"
    )
    focus_by_tab(page, f"el.matches('a') && el.textContent.trim() === '{APPS['k8s']}'", 80)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(f"/ui/clusters/k8s/apps/{APPS['k8s']}$"))


def test_the_skip_link_is_the_first_stop_and_leads_to_the_content(admin: Page) -> None:
    admin.goto("/ui/agents")
    admin.keyboard.press("Tab")
    skip = admin.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    admin.keyboard.press("Enter")
    assert admin.evaluate("document.activeElement.id") == "main"


def test_a_confirmation_opens_from_the_keyboard_and_escape_cancels_it(
    admin: Page, fleet: DashboardFleet
) -> None:
    admin.goto(f"/ui/clusters/docker/apps/{APPS['docker']}")
    focus_by_tab(admin, "el.matches('button.danger') && el.textContent.trim() === 'Delete'", 80)
    admin.keyboard.press("Enter")
    dialog = admin.locator("dialog.confirm-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(f"Delete app {APPS['docker']} on docker?")
    assert admin.evaluate("!!document.activeElement.closest('dialog')"), "focus in the dialog"
    screenshot(admin, "confirm")
    admin.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(admin.get_by_role("button", name="Delete", exact=True)).to_be_focused()
    app = fleet.ok("GET", f"/clusters/docker/apps/{APPS['docker']}")["app"]
    assert app["instances"]["desired"] == 2, "cancelled: the app is still there"
    expect(admin).to_have_url(re.compile(f"/apps/{APPS['docker']}$"))
