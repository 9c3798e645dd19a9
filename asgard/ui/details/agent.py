"""An agent's page: its attributes, resources, the apps on it, and its usage over time
(drawn in the browser from the API's ``/clusters/{cluster}/agents/{agent_id}/history``)."""

from __future__ import annotations

import asyncio
from urllib.parse import quote

from aiohttp import web

from asgard import errors
from asgard.http.state import services
from asgard.ui.details.common import failure_page, partial, show_page
from asgard.ui.details.table import routes
from asgard.ui.session import ui_principal

__all__ = ["agent_page"]

AGENT = "/ui/clusters/{cluster}/agents/{agent_id}"


@routes.get(AGENT)
async def agent_page(request: web.Request) -> web.Response:
    principal = await ui_principal(request)
    cluster, agent_id = request.match_info["cluster"], request.match_info["agent_id"]
    svc = services(request)
    try:
        agent, apps = await asyncio.gather(
            svc.agents.get(principal, cluster, agent_id),
            partial(svc.agents.apps(principal, cluster, agent_id)),
        )
    except errors.AsgardError as exc:
        return failure_page(
            request,
            principal,
            exc,
            title=f"Agent {agent_id} on {cluster}",
            back=("/ui/agents", "All agents"),
        )
    context = {
        "agent": agent,
        "measured": svc.agents.measured([agent]).get((agent.cluster, agent.id)),
        "apps": apps,
        "history_url": f"/clusters/{quote(cluster, safe='')}/agents/{quote(agent_id, safe='')}"
        "/history",
    }
    return show_page(
        request,
        "details/agent.html",
        context,
        principal=principal,
        live_kinds="agent,app,task",
        cluster=cluster,
    )
