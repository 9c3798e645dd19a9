"""Who may write, in a real browser: a viewer is shown no action at all, and a write forged
from the viewer's own page (its session cookie and its CSRF token, by ``fetch``) is refused
with 403; so is a write by an admin that lacks the CSRF token or carries another."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from tests.support.browser import screenshot
from tests.support.dashboard_data import APPS, SCHEDULED
from tests.support.dashboard_fleet import DashboardFleet

APP_PAGE = f"/ui/clusters/docker/apps/{APPS['docker']}"
WRITE_PAGES = [
    APP_PAGE,
    f"/ui/clusters/k8s/apps/{APPS['k8s']}",
    f"/ui/clusters/mesos/apps/{APPS['mesos']}",
]
FORGE = """async ([action, fields]) => {
    const body = new URLSearchParams(fields);
    const answer = await fetch(action, {method: 'POST', body, redirect: 'manual',
                                        credentials: 'same-origin'});
    return answer.status;
}"""


def actions(page: Page) -> list[dict[str, Any]]:
    """Every action form on the page: its address and the fields it would send."""
    found: list[dict[str, Any]] = page.eval_on_selector_all(
        "form[data-confirm]",
        """forms => forms.map(f => ({action: f.getAttribute('action'),
                                     fields: Object.fromEntries(new FormData(f))}))""",
    )
    return found


def csrf_of(page: Page) -> str:
    token = page.get_attribute("meta[name=csrf-token]", "content")
    assert token, "the page carries its session's CSRF token"
    return token


def scaled_to(fleet: DashboardFleet, cluster: str) -> int:
    app = fleet.ok("GET", f"/clusters/{cluster}/apps/{APPS[cluster]}")["app"]
    return int(app["instances"]["desired"])


def test_a_viewer_is_shown_no_action(viewer: Page) -> None:
    for path in WRITE_PAGES:
        viewer.goto(path)
        expect(viewer.get_by_role("heading", level=1)).to_contain_text("App ")
        expect(viewer.locator("main form[method=post]")).to_have_count(0)
        for name in ("Scale", "Restart", "Delete"):
            expect(viewer.get_by_role("button", name=name, exact=True)).to_have_count(0)
    screenshot(viewer, "app-viewer")
    viewer.goto(f"/ui/clusters/docker/scheduled-jobs/{SCHEDULED['docker']}")
    expect(viewer.locator("main form[method=post]")).to_have_count(0)


def test_the_admin_sees_scale_restart_and_delete(admin: Page) -> None:
    admin.goto(APP_PAGE)
    for name in ("Scale", "Restart", "Delete"):
        expect(admin.get_by_role("button", name=name, exact=True)).to_be_visible()
    assert {a["action"].rsplit("/", 1)[-1] for a in actions(admin)} == {
        "scale",
        "restart",
        "delete",
    }


def test_a_write_forged_with_the_viewers_session_is_refused(
    page: Page, sessions: dict[str, list[Any]], fleet: DashboardFleet
) -> None:
    page.context.add_cookies(sessions["admin"])
    page.goto(APP_PAGE)
    scale = next(a for a in actions(page) if a["action"].endswith("/scale"))
    page.context.clear_cookies()
    page.context.add_cookies(sessions["viewer"])
    page.goto(APP_PAGE)
    fields = {**scale["fields"], "instances": "5", "csrf_token": csrf_of(page)}
    assert page.evaluate(FORGE, [scale["action"], fields]) == 403
    assert scaled_to(fleet, "docker") == 2, "nothing was scaled"
    # the JSON API with the viewer's cookie and token: refused as well
    status = page.evaluate(
        """async ([url, token]) => (await fetch(url, {method: 'PATCH',
            headers: {'Content-Type': 'application/json', 'X-CSRF-Token': token},
            body: JSON.stringify({instances: 5})})).status""",
        [f"/clusters/docker/apps/{APPS['docker']}", csrf_of(page)],
    )
    assert status == 403
    assert scaled_to(fleet, "docker") == 2


def test_a_write_without_the_csrf_token_is_refused(admin: Page, fleet: DashboardFleet) -> None:
    admin.goto(APP_PAGE)
    scale = next(a for a in actions(admin) if a["action"].endswith("/scale"))
    without = {k: v for k, v in scale["fields"].items() if k != "csrf_token"}
    assert admin.evaluate(FORGE, [scale["action"], {**without, "instances": "4"}]) == 403
    wrong = {**without, "instances": "4", "csrf_token": "0" * 64}
    assert admin.evaluate(FORGE, [scale["action"], wrong]) == 403
    status = admin.evaluate(
        """async url => (await fetch(url, {method: 'PATCH',
            headers: {'Content-Type': 'application/json'},
            body: JSON.stringify({instances: 4})})).status""",
        f"/clusters/docker/apps/{APPS['docker']}",
    )
    assert status == 403, "the JSON API with the cookie alone"
    assert scaled_to(fleet, "docker") == 2, "nothing was scaled"
