"""Every page of the dashboard in a real browser, logged in as the account's admin, showing
what each of the three clusters holds: a row per object, in its cluster's row, with its
kind. Each test saves its page as the docs' screenshot of it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.support.browser import screenshot
from tests.support.dashboard_data import (
    APPS,
    CHRONOS_JOBS,
    CLUSTERS,
    JOBS,
    K8S_NODES,
    KINDS,
    SCHEDULED,
    WORKFLOWS,
)
from tests.support.dashboard_fleet import DashboardFleet
from tests.ui.conftest import Watched


def row(page: Page, cluster: str, text: str) -> Locator:
    """The one row of ``cluster`` that names ``text``."""
    return page.locator(f"main tbody tr[data-cluster='{cluster}']").filter(has_text=text)


def shows(page: Page, cluster: str, text: str) -> Locator:
    found = row(page, cluster, text)
    expect(found).to_have_count(1)
    expect(found).to_contain_text(KINDS[cluster])
    return found


def test_the_fleet_page_has_a_row_per_cluster_of_each_kind(
    admin: Page, watched: Watched, fleet: DashboardFleet
) -> None:
    expect(admin.get_by_role("heading", name="Fleet", exact=True)).to_be_visible()
    for cluster in CLUSTERS:
        line = shows(admin, cluster, cluster)
        expect(line).to_have_attribute("data-state", "ok")
        expect(line).to_contain_text("ok")
    expect(row(admin, "mesos", "mesos")).to_contain_text("1.4.1")  # the master's version
    expect(row(admin, "k8s", "k8s")).to_contain_text("cores")
    expect(admin.locator("main")).to_contain_text("11")  # agents in all: 1 + 2 + 8
    screenshot(admin, "fleet")
    assert watched.problems == []


LISTS = {
    "agents": {
        "docker": ["vm"],  # the engine's host name
        "k8s": list(K8S_NODES),
        "mesos": ["ead07ffb-5a61-42c9-9386-21b680597e6c-S0"],
    },
    "apps": {c: [APPS[c]] for c in CLUSTERS},
    "jobs": {c: [JOBS[c]] for c in CLUSTERS},
    "workflows": {c: [w] for c, w in WORKFLOWS.items()},
    "scheduled-jobs": {
        **{c: [SCHEDULED[c]] for c in CLUSTERS},
        "mesos": [SCHEDULED["mesos"], *CHRONOS_JOBS],
    },
}


@pytest.mark.parametrize("page_name", list(LISTS))
def test_a_merged_list_has_the_rows_of_every_cluster(
    admin: Page, watched: Watched, page_name: str
) -> None:
    admin.goto(f"/ui/{page_name}")
    heading = page_name.replace("-", " ").capitalize()
    expect(admin.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    expected = LISTS[page_name]
    for cluster, names in expected.items():
        for name in names:
            shows(admin, cluster, name)
    expect(admin.locator("#failed-clusters")).to_have_count(0)
    screenshot(admin, page_name)
    assert watched.problems == []


def test_a_filter_in_the_url_keeps_one_cluster(admin: Page, fleet: DashboardFleet) -> None:
    admin.goto("/ui/apps")
    admin.get_by_label("Cluster").select_option("k8s")
    admin.get_by_role("button", name="Apply").click()
    assert "cluster=k8s" in admin.url, "the filter is in the URL, so the view can be shared"
    shows(admin, "k8s", APPS["k8s"])
    expect(admin.locator("main tbody tr[data-cluster]")).to_have_count(1)


def test_the_events_page_lists_what_the_clusters_report(
    admin: Page, watched: Watched, fleet: DashboardFleet
) -> None:
    fleet.ok("PATCH", f"/clusters/mesos/apps/{APPS['mesos']}", json={"instances": 3})
    admin.goto("/ui/events")
    expect(admin.get_by_role("heading", name="Events", exact=True)).to_be_visible()
    table = admin.locator("#events-table tbody")
    expect(table.locator("tr").filter(has_text=APPS["mesos"]).first).to_contain_text("mesos")
    screenshot(admin, "events")
    fleet.ok("PATCH", f"/clusters/mesos/apps/{APPS['mesos']}", json={"instances": 2})
    assert watched.problems == []


# the detail pages, reached by their links as a person would


def test_an_agent_page_shows_its_attributes_apps_and_graph(admin: Page, watched: Watched) -> None:
    admin.goto("/ui/agents")
    row(admin, "k8s", "node-1").get_by_role("link", name="node-1").click()
    expect(admin).to_have_url(re.compile(r"/ui/clusters/k8s/agents/node-1$"))
    main = admin.locator("main")
    expect(main.get_by_role("heading", level=1)).to_contain_text("node-1")
    expect(main).to_contain_text("kubernetes.io/hostname")  # an attribute
    expect(main).to_contain_text(APPS["k8s"])  # its app
    expect(main.locator(".graph")).to_have_count(1)
    screenshot(admin, "agent")
    assert watched.problems == []


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_an_app_page_shows_its_tasks(admin: Page, watched: Watched, cluster: str) -> None:
    admin.goto("/ui/apps")
    row(admin, cluster, APPS[cluster]).get_by_role("link", name=APPS[cluster]).click()
    expect(admin).to_have_url(re.compile(f"/ui/clusters/{cluster}/apps/{APPS[cluster]}$"))
    main = admin.locator("main")
    expect(main.get_by_role("heading", level=1)).to_contain_text(APPS[cluster])
    expect(main).to_contain_text(re.compile(KINDS[cluster], re.IGNORECASE))
    tasks = main.locator("table").filter(has_text="Task").locator("tbody tr")
    expect(tasks.first).to_contain_text("running")
    if cluster == "k8s":
        screenshot(admin, "app")
    assert watched.problems == []


def test_a_job_page_shows_its_state_and_logs(admin: Page, watched: Watched) -> None:
    admin.goto("/ui/jobs?cluster=docker")
    row(admin, "docker", JOBS["docker"]).get_by_role("link").first.click()
    main = admin.locator("main")
    expect(main.get_by_role("heading", level=1)).to_contain_text(JOBS["docker"])
    expect(main).to_contain_text("succeeded")
    expect(main.locator("pre[data-log-src]")).to_contain_text("done", timeout=15_000)
    screenshot(admin, "job")
    assert watched.problems == []


def test_a_workflow_page_shows_its_stages(admin: Page, watched: Watched) -> None:
    admin.goto("/ui/workflows")
    row(admin, "docker", WORKFLOWS["docker"]).get_by_role("link").first.click()
    main = admin.locator("main")
    expect(main.get_by_role("heading", level=1)).to_contain_text(WORKFLOWS["docker"])
    expect(main).to_contain_text("extract")
    expect(main).to_contain_text("double")
    screenshot(admin, "workflow")
    assert watched.problems == []


def test_a_scheduled_job_page_shows_its_schedule(admin: Page, watched: Watched) -> None:
    admin.goto("/ui/scheduled-jobs")
    row(admin, "mesos", SCHEDULED["mesos"]).get_by_role("link").first.click()
    main = admin.locator("main")
    expect(main.get_by_role("heading", level=1)).to_contain_text(SCHEDULED["mesos"])
    expect(main).to_contain_text("PT24H")
    screenshot(admin, "scheduled-job")
    assert watched.problems == []
