"""The clusters an account may use, with their health."""

from __future__ import annotations

from aiohttp import web

from asgard.http.routing import RouteTable, json_response
from asgard.http.schemas import ClusterList, ClustersQuery
from asgard.http.state import principal, services

routes = RouteTable("clusters")


@routes.get(
    "/clusters",
    summary="Clusters with status, version and latency",
    query=ClustersQuery,
    responses={200: ClusterList},
)
async def list_clusters(request: web.Request, query: ClustersQuery) -> web.Response:
    """From what Asgard knows of each cluster the account may use: its last answer
    (``last_contact_at``) and failure, its change feed, and a background probe's version
    and latency. ``?probe=true`` asks each cluster now; one that does not answer within
    its timeout is ``unreachable`` with the reason in ``error``."""
    found = await services(request).clusters.statuses(principal(request), live=query.probe)
    return json_response(ClusterList(clusters=found))
