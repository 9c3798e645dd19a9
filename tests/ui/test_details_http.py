"""The detail pages and their actions over HTTP, without a browser: a real Docker Engine
behind Asgard in this process, a session made on the login page, pages read as HTML.

Each page must show the real thing it is about, a 404 page for an id that does not
exist, a 502 page for a cluster that does not answer (the actions: test_actions_http).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest

from asgard.models import Role
from asgard.ui.assets import static_url
from tests.conftest import KubeCluster, StartAsgard
from tests.support.dockerd import TEST_IMAGE
from tests.ui.details_site import Site, deployed, finished_job, site, text_of, until
from tests.ui.ui_client import browser

__all__ = ["site"]

# ------------------------------------------------------------------ pages


async def test_the_agent_page_shows_the_engine_its_apps_and_its_usage(site: Site) -> None:
    await deployed(site)
    agent = (await site.operator.json("GET", "/agents?cluster=local"))["agents"][0]
    page = await site.view.page(f"/ui/clusters/local/agents/{agent['id']}")
    words = text_of(page)
    assert f"Agent {agent['hostname']} on local" in words
    assert 'href="/ui/clusters/local/apps/web"' in page, "the app on it links to its page"
    assert "CPU" in words
    assert "Memory" in words
    assert 'sse-connect="/events?kind=agent,app,task,cluster&amp;cluster=local&amp;after=' in page
    source = f"/clusters/local/agents/{quote(agent['id'], safe='')}/history"
    assert f'data-graph-src="{source}"' in page, "the graph reads the API's usage history"
    assert f'<script src="{static_url("asgard-graph.js")}" defer>' in page
    assert "Allocated now: CPU" in words, "the latest numbers are text, not only a graph"

    async def sampled() -> list[dict[str, Any]]:
        history = await site.view.request("GET", source)
        assert history.status == 200, "the graph's source answers the session cookie"
        samples: list[dict[str, Any]] = (await history.json())["history"]
        return samples

    sample = (await until("the agent is sampled", sampled))[-1]
    assert sample["resources"]["cpus"] == agent["resources"]["cpus"]
    assert "mem" in sample["used_resources"]

    async def metered() -> str | None:
        words = text_of(await site.view.page(f"/ui/clusters/local/agents/{agent['id']}"))
        return words if "In use, as the agent's meters last said: CPU" in words else None

    shown = await until("the engine's meters are shown", metered)
    assert re.search(r"memory [0-9.]+ (KiB|MiB|GiB) of", shown.split("In use, as")[1])


async def test_the_app_page_shows_its_spec_tasks_stats_and_logs(site: Site) -> None:
    await deployed(site)
    page = await site.view.page("/ui/clusters/local/apps/web")
    words = text_of(page)
    assert "App web on local" in words
    assert "running" in words
    assert "1 running of 1 desired" in words
    assert TEST_IMAGE in words
    tasks = (await site.operator.json("GET", "/clusters/local/apps/web/tasks"))["tasks"]
    assert tasks
    assert tasks[0]["id"] in page
    assert 'data-log-src="/clusters/local/apps/web/logs"' in page
    assert f'<script src="{static_url("asgard-logs.js")}" defer>' in page, "the log viewer"
    assert 'id="app-tasks" data-live' in page
    logs = await site.view.request("GET", "/clusters/local/apps/web/logs?tail=10")
    assert logs.status == 200, "the page's log source answers the session cookie"


async def test_the_job_page_shows_its_history_logs_and_output(site: Site) -> None:
    job = await finished_job(site)
    page = await site.view.page(f"/ui/clusters/local/jobs/{job['id']}")
    words = text_of(page)
    assert f"Job {job['id']} on local" in words
    assert "succeeded" in words
    assert "State history" in words
    assert "running" in words
    assert f'data-log-src="/clusters/local/jobs/{job["id"]}/logs"' in page
    output = f"/clusters/local/jobs/{job['id']}/output"
    assert f'href="{output}"' in page
    logs = await site.view.request("GET", f"/clusters/local/jobs/{job['id']}/logs")
    assert "hello from the job" in await logs.text()


async def test_the_workflow_page_is_a_timeline_of_its_stages(site: Site) -> None:
    stages = [
        {"name": "make", "image": TEST_IMAGE, "command": ["sh", "-c", "echo 21 > /output/n"]},
        {"name": "use", "image": TEST_IMAGE, "command": ["sh", "-c", "cat /input/n"]},
    ]
    spec = {"cluster": "local", "name": "etl", "stages": stages}
    flow_id = (await site.operator.json("POST", "/workflows", 201, json=spec))["workflow"]["id"]

    async def done() -> bool:
        flow = await site.operator.json("GET", f"/clusters/local/workflows/{flow_id}")
        return bool(flow["workflow"]["state"] == "succeeded")

    await until("the workflow succeeds", done)
    for path in (f"/ui/clusters/local/workflows/{flow_id}", f"/ui/workflows/{flow_id}"):
        page = await site.view.page(path)
        words = text_of(page)
        assert "Workflow etl on local" in words
        assert "1. make" in words
        assert "2. use" in words
        assert words.count("succeeded") >= 3, "the workflow and both stages"
        assert "took" in words
        for stage in ("make", "use"):
            src = f"/clusters/local/workflows/{flow_id}/stages/{stage}/logs"
            assert f'data-log-src="{src}"' in page
    logs = await site.view.request("GET", f"/clusters/local/workflows/{flow_id}/stages/use/logs")
    assert (await logs.text()).strip() == "21"


async def test_the_scheduled_job_page_shows_its_next_run_and_last_runs(site: Site) -> None:
    start = (datetime.now(UTC) + timedelta(seconds=1)).replace(microsecond=0)
    every = f"R3/{start.isoformat().replace('+00:00', 'Z')}/PT2S"
    spec = {
        "cluster": "local",
        "name": "often",
        "image": TEST_IMAGE,
        "command": ["sh", "-c", "echo tick"],
        "schedule": {"value": every},
    }
    await site.operator.json("POST", "/scheduled-jobs", 201, json=spec)

    async def ran() -> str | None:
        got = await site.operator.json("GET", "/clusters/local/scheduled-jobs/often")
        last: str | None = got["scheduled_job"]["last_job_id"]
        return last

    last_job = await until("the schedule starts a run", ran)
    page = await site.view.page("/ui/clusters/local/scheduled-jobs/often")
    words = text_of(page)
    assert "Scheduled job often on local" in words
    assert "enabled" in words
    assert every in words
    assert "Next run" in words
    assert "Last runs" in words
    assert f'href="/ui/clusters/local/jobs/{last_job}"' in page


UNKNOWN = (
    "/ui/clusters/local/agents/no-such-agent",
    "/ui/clusters/local/apps/no-such-app",
    "/ui/clusters/local/jobs/no-such-job",
    "/ui/clusters/local/workflows/no-such-workflow",
    "/ui/workflows/no-such-workflow",
    "/ui/clusters/local/scheduled-jobs/no-such-schedule",
    "/ui/clusters/nowhere/apps/web",
)


@pytest.mark.parametrize("path", UNKNOWN)
async def test_an_unknown_id_is_a_404_page(site: Site, path: str) -> None:
    response = await site.view.request("GET", path)
    assert response.status == 404
    assert response.content_type == "text/html"
    words = text_of(await response.text())
    assert "Not found" in words
    assert "Traceback" not in words


@pytest.mark.parametrize(
    "path",
    [
        "/ui/clusters/gone/apps/web",
        "/ui/clusters/gone/agents/a1",
        "/ui/clusters/gone/jobs/j1",
    ],
)
async def test_a_cluster_that_does_not_answer_is_a_502_page(site: Site, path: str) -> None:
    response = await site.view.request("GET", path)
    assert response.status == 502
    assert response.content_type == "text/html"
    words = text_of(await response.text())
    assert "The cluster does not answer" in words
    assert "Cluster gone does not answer Asgard now" in words


async def test_a_page_without_a_session_sends_to_the_login(site: Site) -> None:
    site.view.client.session.cookie_jar.clear()
    response = await site.view.client.get("/ui/clusters/local/apps/web", allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"].startswith("/ui/login?next=")


async def test_kubernetes_agent_and_app_pages(start_asgard: StartAsgard, kube: KubeCluster) -> None:
    """The same pages over the Kubernetes emulator: a node's labels are its attributes."""
    asgard = await start_asgard(kube.orchestrator)
    account = await asgard.account("dev")
    operator = await asgard.caller("op@example.com", roles={account.id: Role.OPERATOR})
    caller = await asgard.caller("k@example.com", roles={account.id: Role.VIEWER})
    spec = {"cluster": "k8s", "id": "shop/web", "image": "web:1", "instances": 2}
    await operator.json("POST", "/apps", 201, json=spec)
    await kube.controllers.reconcile()
    view = await browser(caller)
    node = text_of(await view.page("/ui/clusters/k8s/agents/node-2"))
    assert "Agent node-2 on k8s" in node
    assert "zone b" in node, "the node's labels are shown as its attributes"
    app = await view.page("/ui/clusters/k8s/apps/shop/web")
    words = text_of(app)
    assert "App shop/web on k8s" in words
    assert "2 running of 2 desired" in words
    assert 'data-log-src="/clusters/k8s/apps/shop/web/logs"' in app
    assert 'href="/ui/clusters/k8s/agents/node-' in app, "each task links to its node"
