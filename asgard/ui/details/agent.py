"""An agent's page: its attributes, resources, the apps on it, and its usage over time."""

from __future__ import annotations

import asyncio

from aiohttp import web

from asgard import errors
from asgard.http.errors import status_of
from asgard.http.state import services
from asgard.ui.details.adapters import agent_history
from asgard.ui.details.common import failure_page, partial, show_page
from asgard.ui.details.table import routes
from asgard.ui.session import ui_principal

__all__ = ["agent_history_json", "agent_page"]

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
        "apps": apps,
        "history_url": request.path + "/history",
    }
    return show_page(
        request,
        "details/agent.html",
        context,
        principal=principal,
        live_kinds="agent,app,task",
        cluster=cluster,
    )


@routes.get(AGENT + "/history")
async def agent_history_json(request: web.Request) -> web.Response:
    """The graph's data: JSON for the page's own script, not an API operation."""
    principal = await ui_principal(request)
    cluster, agent_id = request.match_info["cluster"], request.match_info["agent_id"]
    try:
        samples = await agent_history(services(request), principal, cluster, agent_id)
    except errors.AsgardError as exc:
        return web.json_response({"samples": [], "error": exc.msg}, status=status_of(exc))
    return web.json_response({"samples": samples})
