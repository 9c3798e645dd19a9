"""Agents: the machines of every cluster, as one list."""

from __future__ import annotations

from aiohttp import web

from asgard.http.rendering import page_response
from asgard.http.routing import RouteTable, json_response
from asgard.http.schemas import AgentApps, AgentBody, AgentHistory, AgentList, ClusterListQuery
from asgard.http.state import principal, services

routes = RouteTable("agents")

NOT_ATTRIBUTES = frozenset({"account_id", "cluster", "limit", "cursor", "stale"})


async def _agents(
    request: web.Request, query: ClusterListQuery, attrs: dict[str, str]
) -> web.Response:
    found = await services(request).agents.list_agents(principal(request), query.asked(), attrs)
    return page_response(AgentList, found, cached=True, stats=found.stats)


@routes.get(
    "/agents",
    summary="Agents of every cluster the account may use",
    query=ClusterListQuery,
    responses={200: AgentList},
)
async def list_agents(request: web.Request, query: ClusterListQuery) -> web.Response:
    """Agents whose ``owner`` attribute is the account's owner (all of them for an account
    without owner), ordered by cluster then id. A cluster that fails is an entry in
    ``errors``; only when every cluster fails is the answer 502."""
    return await _agents(request, query, {})


@routes.get(
    "/agents/with-attrs",
    summary="Agents whose attributes match every given pair",
    query=ClusterListQuery,
    responses={200: AgentList},
    extra_query="Any other parameter is an attribute filter: ?zone=a&disk=ssd",
)
async def list_agents_with_attrs(request: web.Request, query: ClusterListQuery) -> web.Response:
    """As ``/agents``, keeping the agents whose attributes equal every other query parameter."""
    attrs = {k: v for k, v in request.query.items() if k not in NOT_ATTRIBUTES}
    return await _agents(request, query, attrs)


@routes.get(
    "/clusters/{cluster}/agents/{agent_id}",
    summary="One agent",
    responses={200: AgentBody},
)
async def get_agent(request: web.Request) -> web.Response:
    """404 when the agent does not exist or belongs to another owner."""
    agent = await services(request).agents.get(
        principal(request), request.match_info["cluster"], request.match_info["agent_id"]
    )
    return json_response(AgentBody(agent=agent))


@routes.get(
    "/clusters/{cluster}/agents/{agent_id}/apps",
    summary="The account's apps with an instance on this agent",
    responses={200: AgentApps},
)
async def get_agent_apps(request: web.Request) -> web.Response:
    """Only the account's own apps: another account's apps on the same machine are not shown."""
    apps = await services(request).agents.apps(
        principal(request), request.match_info["cluster"], request.match_info["agent_id"]
    )
    return json_response(AgentApps(apps=apps))


@routes.get(
    "/clusters/{cluster}/agents/{agent_id}/history",
    summary="The agent's used and total resources, as Asgard sampled them",
    responses={200: AgentHistory},
)
async def agent_history(request: web.Request) -> web.Response:
    """Samples taken every ``history_interval_s`` (15 s by default) over the last
    ``history_window_s`` (1 h), oldest first, kept in this process's memory: a process
    that just started has few. 404 when the agent is unknown or belongs to another owner."""
    found = services(request)
    samples = await found.agents.history(
        principal(request), request.match_info["cluster"], request.match_info["agent_id"]
    )
    settings = found.settings
    return json_response(
        AgentHistory(
            history=samples,
            interval_s=settings.history_interval_s,
            window_s=settings.history_window_s,
        )
    )
