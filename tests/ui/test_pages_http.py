"""Every dashboard page, rendered on the server from real clusters: a Docker Engine, the
Kubernetes emulator, and one cluster that cannot be reached; no browser."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest

from asgard.backends.docker.config import DockerClusterConfig
from asgard.backends.orchestrator import Orchestrator
from asgard.models import Role
from tests.conftest import StartAsgard, build, docker_cluster, emulated_api, kube_cluster
from tests.support.asgard import AsgardUnderTest, Caller
from tests.support.dockerd import SERVE_FOREVER, TEST_IMAGE, DockerDaemon
from tests.ui.ui_client import Browser, browser

PAGES = ("/ui/", "/ui/agents", "/ui/apps", "/ui/jobs", "/ui/workflows", "/ui/scheduled-jobs")
SETTLE_S = 60


@dataclass
class Fleet:
    asgard: AsgardUnderTest
    operator: Caller
    viewer: Browser
    engine: DockerDaemon


async def until(check: Callable[[], Awaitable[bool]], what: str) -> None:
    deadline = time.monotonic() + SETTLE_S
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.3)
    raise AssertionError(f"never happened: {what}")


@pytest.fixture
async def fleet(start_asgard: StartAsgard, engine: DockerDaemon) -> AsyncIterator[Fleet]:
    """Three clusters: ``dock`` (Docker Engine), ``k8s`` (two nodes), ``gone`` (no daemon)."""
    async with emulated_api() as (emulator, url, session):
        kube = await kube_cluster(emulator, url, session)
        await kube.controllers.add_node("node-1", cpu="4", memory="8Gi")
        await kube.controllers.add_node("node-2", cpu="2", memory="4Gi")
        gone = await build(
            DockerClusterConfig(name="gone", url="unix:///nonexistent/docker.sock", timeout_s=1)
        )
        dock = await docker_cluster("dock", engine)
        orchestrator = Orchestrator([dock, kube.cluster, gone])
        asgard = await start_asgard(orchestrator, data_dir=kube.context.data_dir)
        team = await asgard.account("team")
        operator = await asgard.caller("op@example.com", roles={team.id: Role.OPERATOR})
        viewer = await asgard.caller("viewer@example.com", roles={team.id: Role.VIEWER})
        yield Fleet(asgard, operator, await browser(viewer), engine)
        await orchestrator.close()


def rows(html: str, table_id: str) -> list[str]:
    """The body rows of one table, as their HTML."""
    table = html.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    body = table.split("<tbody>", 1)[1]
    return re.findall(r"<tr[^>]*>.*?</tr>", body, flags=re.S)


async def test_every_page_needs_a_session(fleet: Fleet) -> None:
    for path in (*PAGES, "/ui/events"):
        response = await fleet.asgard.client.get(path, allow_redirects=False)
        assert response.status == 302, path
        assert urlsplit(response.headers["Location"]).path == "/ui/login"
        assert parse_qs(urlsplit(response.headers["Location"]).query)["next"] == [path]


async def test_the_fleet_has_one_row_per_cluster_with_its_state(fleet: Fleet) -> None:
    html = await fleet.viewer.page("/ui/")
    found = {re.search(r'data-cluster="([^"]+)"', r).group(1): r for r in rows(html, "fleet-table")}  # type: ignore[union-attr]
    assert set(found) == {"dock", "k8s", "gone"}
    assert 'data-state="ok"' in found["dock"]
    assert 'data-state="ok"' in found["k8s"]
    assert 'data-state="down"' in found["gone"] or 'data-state="stale"' in found["gone"]
    assert "docker" in found["dock"]
    assert "kubernetes" in found["k8s"]
    assert "6 cores" in found["k8s"], "capacity of both nodes"
    assert "<meter" in found["k8s"]
    assert "aria-label=" in found["k8s"]
    assert 'id="failed-clusters"' in html
    assert "gone" in html.split('id="failed-clusters"')[1]
    assert 'sse-connect="/events?kind=agent,app,task,job,cluster&amp;after=' in html
    assert re.search(r'<div id="fleet-totals" data-live>', html)
    assert re.search(r'<div id="fleet-clusters" data-live>', html)


async def test_the_fleet_shows_use_where_agents_have_meters(fleet: Fleet) -> None:
    """Allocated and used, side by side: the Docker Engine meters its containers; the
    emulated Kubernetes has no metrics API, so it says so rather than showing zero."""

    async def metered() -> bool:
        found = rows(await fleet.viewer.page("/ui/"), "fleet-table")
        return any(
            'data-cluster="dock"' in r and 'aria-label="CPU used on dock"' in r for r in found
        )

    await until(metered, "the engine's meters reach the fleet page")
    html = await fleet.viewer.page("/ui/")
    by = {re.search(r'data-cluster="([^"]+)"', r).group(1): r for r in rows(html, "fleet-table")}  # type: ignore[union-attr]
    assert 'aria-label="Memory used on dock"' in by["dock"]
    assert 'aria-label="CPU allocated on k8s"' in by["k8s"]
    assert "not metered" in by["k8s"]
    assert 'aria-label="Fleet CPU used"' in html, "the totals count the metered agents"
    assert "1 of 3 agents metered" in html


async def test_agents_of_every_kind_in_one_table(fleet: Fleet) -> None:
    html = await fleet.viewer.page("/ui/agents")
    table = rows(html, "agents-table")
    assert any("node-1" in r and "kubernetes" in r for r in table)
    assert any("node-2" in r for r in table)
    assert any('data-cluster="dock"' in r and "docker" in r for r in table)
    assert "/ui/clusters/k8s/agents/node-1" in html
    assert "<caption>" in html
    assert 'scope="col"' in html
    only_k8s = await fleet.viewer.page("/ui/agents?kind=kubernetes")
    assert all('data-cluster="k8s"' in r for r in rows(only_k8s, "agents-table"))
    assert len(rows(only_k8s, "agents-table")) == 2


async def test_sorting_and_filters_are_kept_in_the_url(fleet: Fleet) -> None:
    html = await fleet.viewer.page("/ui/agents?sort=cpu&dir=desc&cluster=k8s")
    assert 'aria-sort="descending"' in html
    assert 'href="/ui/agents?cluster=k8s&amp;sort=cpu&amp;dir=asc"' in html, "the header flips it"
    assert '<option value="k8s" selected>' in html
    texts = await fleet.viewer.page("/ui/agents?q=node-2")
    assert [("node-2" in r) for r in rows(texts, "agents-table")] == [True]


async def test_pages_follow_the_cursor(fleet: Fleet) -> None:
    first = await fleet.viewer.page("/ui/agents?kind=kubernetes&limit=1")
    assert len(rows(first, "agents-table")) == 1
    found = re.search(r'<a rel="next" href="([^"]+)"', first)
    assert found, "a next page"
    second = await fleet.viewer.page(found.group(1).replace("&amp;", "&"))
    assert len(rows(second, "agents-table")) == 1
    assert rows(first, "agents-table") != rows(second, "agents-table")
    assert 'rel="next"' not in second


async def test_apps_with_their_tasks_and_jobs(fleet: Fleet) -> None:
    app = {"cluster": "dock", "id": "web", "image": TEST_IMAGE, "args": SERVE_FOREVER}
    await fleet.operator.json("POST", "/apps", 201, json=app)
    job = {"cluster": "dock", "name": "once", "image": TEST_IMAGE, "command": ["true"]}
    created = await fleet.operator.json("POST", "/jobs", 201, json=job)

    async def running() -> bool:
        return "running" in "".join(rows(await fleet.viewer.page("/ui/apps"), "apps-table"))

    await until(running, "the app runs")
    html = await fleet.viewer.page("/ui/apps")
    web = next(r for r in rows(html, "apps-table") if "/ui/clusters/dock/apps/web" in r)
    assert 'class="tasks"' in web
    assert "state-running" in web
    jobs = await fleet.viewer.page("/ui/jobs?cluster=dock")
    job_id = created["job"]["id"] if "job" in created else created["id"]
    assert f"/ui/clusters/dock/jobs/{job_id}" in jobs
    failed_only = await fleet.viewer.page("/ui/apps?state=failed")
    assert "/ui/clusters/dock/apps/web" not in failed_only


async def test_workflows_scheduled_jobs_and_events_render(fleet: Fleet) -> None:
    for path, table in (
        ("/ui/workflows", "workflows-table"),
        ("/ui/scheduled-jobs", "scheduled-jobs-table"),
        ("/ui/events", "events-table"),
    ):
        html = await fleet.viewer.page(path)
        assert f'id="{table}"' in html
        assert "<caption>" in html


async def test_the_banner_names_the_failed_cluster_on_every_table(fleet: Fleet) -> None:
    for path in PAGES[1:]:
        html = await fleet.viewer.page(path)
        banner = html.split('id="failed-clusters"', 1)
        assert len(banner) == 2, path
        assert "failed: gone" in banner[1].split("</summary>")[0], path


async def test_pages_hold_no_inline_script_or_style_and_carry_the_csp(fleet: Fleet) -> None:
    """The CSP allows neither; a page that had one would break in the browser."""
    for path in (*PAGES, "/ui/events", "/ui/agents?sort=cpu&dir=desc"):
        response = await fleet.viewer.request("GET", path)
        html = await response.text()
        assert response.status == 200, path
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        assert response.headers["Cache-Control"] == "no-store"
        assert "<style" not in html, path
        assert " style=" not in html, path
        for tag in re.findall(r"<script[^>]*>", html):
            assert 'src="/ui/static/' in tag, f"{path}: {tag}"
        assert not re.search(r"<[^>]+\son[a-z]+=", html), f"{path}: an inline handler"
        head = html.split("</head>", 1)[0]
        assert "<a " not in head, f"{path}: content rendered into the head"
