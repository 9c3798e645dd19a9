"""The clusters an account may use, with their health; and, for administrators, the
clusters registered at run time: their entries, registered, changed and removed."""

from __future__ import annotations

from aiohttp import web

from asgard.http.audit_note import about
from asgard.http.routing import RouteTable, follow, json_response
from asgard.http.schemas import (
    ClusterCreateQuery,
    ClusterEntryAnswer,
    ClusterEntryBody,
    ClusterList,
    ClusterPatchBody,
    ClustersQuery,
)
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


@routes.post(
    "/clusters",
    summary="Register a cluster (administrators only)",
    query=ClusterCreateQuery,
    body=ClusterEntryBody,
    links=follow("cluster", {"cluster": "name"}, "get_cluster", "patch_cluster", "delete_cluster"),
    responses={201: ClusterEntryAnswer},
)
async def create_cluster(
    request: web.Request, query: ClusterCreateQuery, body: ClusterEntryBody
) -> web.Response:
    """The body is a clusters file's entry for its kind (secrets included, stored
    encrypted, shown as ``"set"``). 422 naming the field the kind's model refuses, or
    with the check's reasons (unreachable, permissions missing) unless ``check=false``;
    409 when the name is the clusters file's or another registered cluster's. Served at
    once by this process, and by the others sharing the database within seconds."""
    about(request, cluster=body.name, id=body.name)
    entry = await services(request).cluster_registry.create(
        principal(request), body.entry(), check=query.check
    )
    return json_response(ClusterEntryAnswer(cluster=entry), status=201)


@routes.get(
    "/clusters/{cluster}",
    summary="One cluster's entry and status (administrators only)",
    responses={200: ClusterEntryAnswer},
)
async def get_cluster(request: web.Request) -> web.Response:
    """Its settings as given (the clusters file's or the API's), secrets shown as
    ``"set"``, and what is known of it now; ``source`` says whether it can be changed."""
    entry = await services(request).cluster_registry.get(
        principal(request), request.match_info["cluster"]
    )
    return json_response(ClusterEntryAnswer(cluster=entry))


@routes.patch(
    "/clusters/{cluster}",
    summary="Change a registered cluster (administrators only)",
    body=ClusterPatchBody,
    responses={200: ClusterEntryAnswer},
)
async def patch_cluster(request: web.Request, body: ClusterPatchBody) -> web.Response:
    """The fields given replace the entry's (null: back to the default); the cluster is
    then served from its new entry. 409 for a cluster of the clusters file: it changes
    there, and a change here would be undone at the next start."""
    name = request.match_info["cluster"]
    about(request, id=name)
    entry = await services(request).cluster_registry.update(principal(request), name, body.patch())
    return json_response(ClusterEntryAnswer(cluster=entry))


@routes.delete(
    "/clusters/{cluster}",
    summary="Remove a registered cluster (administrators only)",
    responses={204: None},
)
async def delete_cluster(request: web.Request) -> web.Response:
    """Its feed, cache, events, usage history and kept answers go, in every process;
    nothing on the cluster is touched. 409 for a cluster of the clusters file."""
    name = request.match_info["cluster"]
    about(request, id=name)
    await services(request).cluster_registry.delete(principal(request), name)
    return web.Response(status=204)
