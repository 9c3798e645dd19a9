"""A cluster that goes down is one line above each table, its last-known rows greyed
"stale since ...", and it comes back when the cluster does; on the server, no browser."""

from __future__ import annotations

import re

from asgard.models import Role
from tests.conftest import StartAsgard, kube_that_can_fail
from tests.support.watching import eventually
from tests.ui.test_pages_http import rows
from tests.ui.ui_client import Browser, browser


def k8s_rows(html: str, table: str) -> list[str]:
    return [r for r in rows(html, table) if 'data-cluster="k8s"' in r]


async def banner_names(session: Browser, path: str, cluster: str) -> bool:
    html = await session.page(path)
    summary = html.split('id="failed-clusters"', 1)
    return len(summary) == 2 and cluster in summary[1].split("</summary>", 1)[0]


async def test_a_down_cluster_is_greyed_as_stale_then_recovers(start_asgard: StartAsgard) -> None:
    async with kube_that_can_fail(start_asgard, nodes=1) as served:
        asgard, server = served.asgard, served.server
        team = await asgard.account("team")
        viewer = await asgard.caller("v@example.com", roles={team.id: Role.VIEWER})
        session = await browser(viewer)
        seen = await session.page("/ui/agents")
        (node,) = k8s_rows(seen, "agents-table")
        assert "node-1" in node
        assert "stale" not in node
        assert 'id="failed-clusters"' not in seen
        await session.page("/ui/")

        await server.stop()
        await eventually(
            lambda: banner_names(session, "/ui/agents", "k8s"), "the banner names k8s", 20
        )
        html = await session.page("/ui/agents")
        (node,) = k8s_rows(html, "agents-table")
        assert 'class="stale"' in node
        assert "stale since" in node
        assert "its rows are what Asgard last saw, stale since" in html
        fleet_html = await session.page("/ui/")
        row = re.search(r'<tr id="cluster-k8s"[^>]*>', fleet_html)
        assert row is not None
        assert 'data-state="stale"' in row.group(0)
        assert "stale since" in fleet_html
        for path in ("/ui/apps", "/ui/jobs", "/ui/workflows", "/ui/scheduled-jobs"):
            assert await banner_names(session, path, "k8s"), path

        await server.start()

        async def recovered() -> bool:
            return not await banner_names(session, "/ui/agents", "k8s")

        await eventually(recovered, "the banner goes once k8s answers", 30)
        (node,) = k8s_rows(await session.page("/ui/agents"), "agents-table")
        assert "stale" not in node
