"""The clusters an account may use, with their health."""

from __future__ import annotations

from aiohttp import web

from asgard.http.routing import RouteTable, json_response
from asgard.http.schemas import ClusterList
from asgard.http.state import principal, services

routes = RouteTable("clusters")


@routes.get(
    "/clusters", summary="Clusters with status, version and latency", responses={200: ClusterList}
)
async def list_clusters(request: web.Request) -> web.Response:
    """Each cluster the account may use is asked for its version now; one that does not
    answer within its timeout is ``unreachable`` with the reason in ``error``."""
    found = await services(request).clusters.statuses(principal(request))
    return json_response(ClusterList(clusters=found))
