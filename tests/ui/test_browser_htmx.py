"""htmx and its SSE extension do the live parts and the actions, in a real browser.

Live: a burst of events on ``/events`` (a Deployment scaled thrice in the Kubernetes
emulator, behind Asgard's back) is one htmx GET of the page per second at most, and the
last change shows, as the request after the last event; the page is not reloaded. A
hidden tab closes its EventSource and makes no request; visible again, it listens again
and refreshes once. Actions: a scale made on the page is an htmx XMLHttpRequest with
``HX-Request`` and ``X-CSRF-Token``, its confirmation asked in the page's dialog, and the
result and its message show without a page load; the same form stripped of its token is
answered 403, and that page is shown in place.
"""

from __future__ import annotations

import itertools
import math
import re
import time
from typing import Any

from playwright.sync_api import Page, Request, Route, expect

from tests.support.browser import open_live, settles
from tests.support.dashboard_data import APPS, JOBS, SCHEDULED, WORKFLOWS
from tests.support.dashboard_fleet import DashboardFleet
from tests.ui.conftest import Watched

SHOWS_WITHIN_MS = 8_000
MIN_GAP_MS = 990.0
"""asgard.js lets one refresh through per 1000 ms by its clock; the test's, read when htmx
is about to send, runs a few tenths of a millisecond apart from it."""
QUIET_S = 3.0
MARK = "window.__notReloaded"

K8S_APP = f"/ui/clusters/k8s/apps/{APPS['k8s']}"
MESOS_APP = f"/ui/clusters/mesos/apps/{APPS['mesos']}"

RECORD = """() => {
    window.__live = {sent: [], messages: []};
    document.addEventListener('htmx:beforeSend', (e) => {
        if (e.detail.elt.id === 'live-refresh') window.__live.sent.push(performance.now());
    });
    document.addEventListener('htmx:sseMessage', () => {
        window.__live.messages.push(performance.now());
    });
}"""

SOURCES = """
window.__sources = [];
const Native = window.EventSource;
window.EventSource = class extends Native {
    constructor(...args) { super(...args); window.__sources.push(this); }
};
"""
"""Run before the page's scripts: every EventSource the page opens, kept to look at."""

VISIBILITY = """(hidden) => {
    if (hidden) {
        Object.defineProperty(document, 'hidden', {configurable: true, get: () => true});
        Object.defineProperty(document, 'visibilityState',
                              {configurable: true, get: () => 'hidden'});
    } else {
        delete document.hidden;
        delete document.visibilityState;
    }
    document.dispatchEvent(new Event('visibilitychange'));
}"""


def mark(page: Page) -> None:
    page.evaluate(f"{MARK} = true")


def not_reloaded(page: Page) -> bool:
    return bool(page.evaluate(f"{MARK} === true"))


def is_refresh(request: Request, path: str) -> bool:
    headers = request.headers
    return (
        request.method == "GET"
        and request.url.endswith(path)
        and headers.get("hx-request") == "true"
        and headers.get("hx-trigger") == "live-refresh"
    )


def desired(fleet: DashboardFleet, cluster: str) -> int:
    app = fleet.ok("GET", f"/clusters/{cluster}/apps/{APPS[cluster]}")["app"]
    return int(app["instances"]["desired"])


def quiet(page: Page) -> dict[str, list[float]]:
    """What was recorded, once no event came for QUIET_S (the pods have settled)."""

    def settled() -> dict[str, list[float]] | None:
        seen: dict[str, list[float]] = page.evaluate("window.__live")
        now = float(page.evaluate("performance.now()"))
        last = max(seen["messages"], default=0.0)
        return seen if seen["messages"] and now - last > QUIET_S * 1000 else None

    found: dict[str, list[float]] = settles(settled, "the events stop", 30)
    return found


def test_a_burst_of_events_is_one_refresh_a_second_and_the_last_change_shows(
    admin: Page, watched: Watched, fleet: DashboardFleet
) -> None:
    open_live(admin, K8S_APP)
    summary = admin.locator("#app-summary")
    expect(summary).to_contain_text("of 2 desired")
    refreshes: list[Request] = []
    admin.on("request", lambda r: refreshes.append(r) if is_refresh(r, K8S_APP) else None)
    admin.evaluate(RECORD)
    mark(admin)
    try:
        for replicas in (3, 4, 5):
            fleet.scale_deployment(APPS["k8s"], replicas)
        expect(summary).to_contain_text("of 5 desired", timeout=SHOWS_WITHIN_MS)
        seen = quiet(admin)
        assert not_reloaded(admin), "the regions changed in place"
    finally:
        fleet.scale_deployment(APPS["k8s"], 2)
    sent, messages = seen["sent"], seen["messages"]
    assert sent, "the events made htmx refresh the page"
    assert len(refreshes) == len(sent), "each refresh is an htmx GET of the page"
    gaps = [later - earlier for earlier, later in itertools.pairwise(sent)]
    assert all(gap >= MIN_GAP_MS for gap in gaps), f"at most one a second: {gaps}"
    window_s = (messages[-1] - messages[0]) / 1000
    assert len(sent) <= math.ceil(window_s) + 1, f"{len(messages)} events, {len(sent)} GETs"
    assert len(sent) < len(messages), "events that came together made one request"
    assert sent[-1] >= messages[-1], "a refresh came after the last event: it shows"
    print(f"{len(messages)} events over {window_s:.1f} s, {len(sent)} refreshes, gaps {gaps}")
    expect(summary).to_contain_text("of 2 desired", timeout=SHOWS_WITHIN_MS)
    settles(lambda: desired(fleet, "k8s") == 2, "web-k8s back to 2", 20)
    assert watched.problems == []


def asks_nothing_more(page: Page, refreshes: list[Request], limit_s: float = 20) -> None:
    """Wait until the page has asked for nothing for 1.5 s, then forget what it asked."""
    deadline = time.monotonic() + limit_s
    while True:
        before = len(refreshes)
        page.wait_for_timeout(1500)
        if len(refreshes) == before:
            refreshes.clear()
            return
        assert time.monotonic() < deadline, "the page never went quiet"


def test_a_hidden_tab_stops_listening_and_refreshes_once_when_shown(
    admin: Page, watched: Watched, fleet: DashboardFleet
) -> None:
    admin.add_init_script(SOURCES)
    admin.goto(K8S_APP)
    summary = admin.locator("#app-summary")
    expect(summary).to_contain_text("of 2 desired")
    settles(lambda: admin.evaluate("window.__sources[0].readyState") == 1, "connected", 10)
    refreshes: list[Request] = []
    admin.on("request", lambda r: refreshes.append(r) if is_refresh(r, K8S_APP) else None)
    asks_nothing_more(admin, refreshes)  # what the test before changed has stopped arriving
    mark(admin)
    admin.evaluate(VISIBILITY, True)
    expect(admin.locator("#live")).to_have_count(0)
    assert admin.evaluate("window.__sources.map(s => s.readyState)") == [2], "closed"
    try:
        fleet.scale_deployment(APPS["k8s"], 3)
        settles(lambda: desired(fleet, "k8s") == 3, "Asgard sees 3", 20)
        admin.wait_for_timeout(1500)
        assert refreshes == [], "a hidden tab asks for nothing"
        expect(summary).to_contain_text("of 2 desired")
        admin.evaluate(VISIBILITY, False)
        expect(summary).to_contain_text("of 3 desired", timeout=SHOWS_WITHIN_MS)
        states = admin.evaluate("window.__sources.map(s => s.readyState)")
        assert len(states) == 2, states
        assert states[0] == 2, "the first stays closed"
        assert states[1] in (0, 1), "a new one listens"
        admin.wait_for_timeout(1500)
        assert len(refreshes) == 1, "one refresh for what was missed"
        assert not_reloaded(admin)
    finally:
        fleet.scale_deployment(APPS["k8s"], 2)
    expect(summary).to_contain_text("of 2 desired", timeout=SHOWS_WITHIN_MS)
    settles(lambda: desired(fleet, "k8s") == 2, "web-k8s back to 2", 20)
    assert watched.problems == []


def scale_on_the_page(page: Page, instances: int) -> Request:
    """Scale with the page's form, confirmed in its dialog; the request htmx made."""
    page.fill("#scale-instances", str(instances))
    page.get_by_role("button", name="Scale", exact=True).click()
    dialog = page.locator("dialog.confirm-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(f"to {instances} instances?")
    with page.expect_request(lambda r: r.method == "POST" and r.url.endswith("/scale")) as sent:
        dialog.get_by_role("button", name="Scale", exact=True).click()
    return sent.value


def test_an_action_goes_through_htmx_and_a_forged_one_shows_its_403(
    admin: Page, watched: Watched, fleet: DashboardFleet
) -> None:
    open_live(admin, MESOS_APP)
    expect(admin.locator("#app-summary")).to_contain_text("of 2 desired")
    token = admin.get_attribute("meta[name=csrf-token]", "content")
    assert token
    loads: list[str] = []
    admin.on("load", lambda _: loads.append(admin.url))
    mark(admin)
    try:
        # the page swapped in listens on /events in its turn
        with admin.expect_response(lambda response: "/events?" in response.url):
            posted = scale_on_the_page(admin, 3)
        assert posted.resource_type == "xhr", "htmx's XMLHttpRequest, not a form navigation"
        assert posted.headers.get("hx-request") == "true"
        assert posted.headers.get("x-csrf-token") == token
        assert f"csrf_token={token}" in (posted.post_data or ""), "the form's field too"
        flash = admin.locator("#flash")
        expect(flash).to_contain_text(f"App {APPS['mesos']} is scaled to 3 instances.")
        expect(flash).to_be_focused()
        expect(admin.locator("#app-summary")).to_contain_text("of 3 desired")
        assert desired(fleet, "mesos") == 3
        assert not_reloaded(admin), "shown without loading a page"
        assert loads == []
        assert admin.url.endswith(MESOS_APP)
        # the page swapped in listens on its own: a change made elsewhere shows
        fleet.ok("PATCH", f"/clusters/mesos/apps/{APPS['mesos']}", json={"instances": 4})
        expect(admin.locator("#app-summary")).to_contain_text("of 4 desired", timeout=8_000)

        # the same form, without its token (neither the field nor the meta the header
        # is read from): refused, and the failure page shown in place
        admin.evaluate(
            """() => {
                document.querySelectorAll('input[name=csrf_token]').forEach(i => i.remove());
                document.querySelector('meta[name=csrf-token]').content = '';
            }"""
        )
        forged = scale_on_the_page(admin, 5)
        assert "x-csrf-token" not in forged.headers
        assert "csrf_token" not in (forged.post_data or "")
        failure = admin.locator("section.failure")
        expect(failure).to_contain_text("Not allowed (403)")
        expect(failure).to_contain_text("needs its CSRF token")
        expect(failure.get_by_role("link", name="Back")).to_have_attribute("href", MESOS_APP)
        assert not_reloaded(admin)
        assert loads == []
        assert desired(fleet, "mesos") == 4, "nothing was scaled"
    finally:
        fleet.ok("PATCH", f"/clusters/mesos/apps/{APPS['mesos']}", json={"instances": 2})
    settles(lambda: desired(fleet, "mesos") == 2, "web-mesos back to 2", 10)
    assert watched.problems == [f"403: POST {fleet.url}{MESOS_APP}/scale"]


def live_ids(page: Page) -> dict[str, Any]:
    found: dict[str, Any] = page.evaluate(
        """() => ({
            regions: [...document.querySelectorAll('[data-live][id]')].map(e => e.id).sort(),
            swapped: (document.querySelector('#live-refresh')
                      ?.getAttribute('hx-select-oob') || '').split(',').filter(Boolean).sort(),
            get: document.querySelector('#live-refresh')?.getAttribute('hx-get'),
            connect: (document.querySelector('#live')?.getAttribute('sse-connect') || '')
                .replace(/&after=[^&]*/, ''),
        })"""
    )
    return found


def test_every_live_region_is_named_by_the_refresh_of_its_page(
    admin: Page, fleet: DashboardFleet
) -> None:
    jobs = fleet.ok("GET", "/jobs?cluster=docker")["jobs"]
    job = next(j for j in jobs if j["name"] == JOBS["docker"])
    flows = fleet.ok("GET", "/workflows?cluster=docker")["workflows"]
    flow = next(w for w in flows if w["name"] == WORKFLOWS["docker"])
    pages = [
        "/ui/",
        "/ui/agents?cluster=k8s",
        "/ui/apps",
        "/ui/jobs",
        "/ui/workflows",
        "/ui/scheduled-jobs",
        "/ui/events",
        "/ui/clusters/k8s/agents/node-1",
        K8S_APP,
        f"/ui/clusters/docker/jobs/{job['id']}",
        f"/ui/clusters/docker/workflows/{flow['id']}",
        f"/ui/clusters/mesos/scheduled-jobs/{SCHEDULED['mesos']}",
    ]
    for path in pages:
        admin.goto(path)
        found = live_ids(admin)
        assert found["regions"], path
        assert found["swapped"] == found["regions"], path
        assert found["get"] == path, path
        assert found["connect"].startswith("/events?kind="), path
    assert live_ids(admin)["connect"] == "/events?kind=job,cluster&cluster=mesos"
    admin.goto("/ui/agents?cluster=k8s")
    assert live_ids(admin)["connect"] == "/events?kind=agent,cluster&cluster=k8s"


REFRESH = "() => htmx.trigger(document.getElementById('live-refresh'), 'asgard:refresh')"


def test_a_failed_refresh_says_since_when_the_page_is_not_updated(admin: Page) -> None:
    admin.goto(K8S_APP)
    expect(admin.locator("#app-summary")).to_contain_text("of 2 desired")
    note = admin.locator("#live-note")

    def refreshes(route: Route) -> bool:
        return bool(route.request.headers.get("hx-trigger") == "live-refresh")

    admin.route(
        f"**{K8S_APP}",
        lambda route: (
            route.fulfill(status=502, body="down") if refreshes(route) else route.continue_()
        ),
    )
    admin.evaluate(REFRESH)
    expect(note).to_contain_text("Not updated since")
    expect(note).to_contain_text("the server answered 502")
    expect(admin.locator("#app-summary")).to_contain_text("of 2 desired")  # left as it was
    admin.unroute(f"**{K8S_APP}")
    admin.route(
        f"**{K8S_APP}",
        lambda route: route.abort() if refreshes(route) else route.continue_(),
    )
    admin.wait_for_timeout(1100)
    admin.evaluate(REFRESH)
    expect(note).to_contain_text("the server did not answer")
    admin.unroute(f"**{K8S_APP}")
    admin.wait_for_timeout(1100)
    admin.evaluate(REFRESH)
    expect(note).to_have_count(0)


def test_a_refresh_or_an_action_after_the_session_ended_goes_to_the_login(
    admin: Page, sessions: dict[str, list[Any]]
) -> None:
    admin.goto(K8S_APP)
    expect(admin.locator("#app-summary")).to_contain_text("of 2 desired")
    admin.context.clear_cookies()
    admin.evaluate(REFRESH)
    expect(admin).to_have_url(re.compile(rf"/ui/login\?next=/ui/clusters/k8s/apps/{APPS['k8s']}$"))
    admin.context.add_cookies(sessions["admin"])
    admin.goto(MESOS_APP)
    admin.context.clear_cookies()
    admin.get_by_role("button", name="Restart", exact=True).click()
    admin.locator("dialog.confirm-dialog").get_by_role("button", name="Restart").click()
    expect(admin).to_have_url(
        re.compile(rf"/ui/login\?next=/ui/clusters/mesos/apps/{APPS['mesos']}$")
    )
