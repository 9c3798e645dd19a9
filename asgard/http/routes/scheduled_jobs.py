"""Scheduled jobs: a JobSpec run on a schedule, on every kind of cluster."""

from __future__ import annotations

from aiohttp import web

from asgard.errors import InvalidValue
from asgard.http.audit_note import about
from asgard.http.rendering import page_response
from asgard.http.routing import RouteTable, follow, json_response
from asgard.http.schemas import ClusterListQuery, ScheduledJobBody, ScheduledJobList
from asgard.http.state import principal, services
from asgard.models import ScheduledJobSpec

routes = RouteTable("scheduled-jobs")

ONE = "/clusters/{cluster}/scheduled-jobs/{job_id}"


@routes.get(
    "/scheduled-jobs",
    summary="Scheduled jobs of the account on every cluster",
    query=ClusterListQuery,
    responses={200: ScheduledJobList},
)
async def list_scheduled_jobs(request: web.Request, query: ClusterListQuery) -> web.Response:
    found = await services(request).scheduled_jobs.list_scheduled_jobs(
        principal(request), query.asked()
    )
    return page_response(ScheduledJobList, found)


@routes.post(
    "/scheduled-jobs",
    summary="Schedule a job",
    body=ScheduledJobSpec,
    links=follow(
        "scheduled_job",
        {"cluster": "cluster", "job_id": "id"},
        "get_scheduled_job",
        "put_scheduled_job",
        "delete_scheduled_job",
    ),
    responses={201: ScheduledJobBody},
)
async def create_scheduled_job(request: web.Request, body: ScheduledJobSpec) -> web.Response:
    """The id is the ``name``; 409 when the account has one by that name on the cluster."""
    about(request, cluster=body.cluster, id=body.name)
    found = await services(request).scheduled_jobs.create(principal(request), body)
    about(request, id=found.id)
    return json_response(ScheduledJobBody(scheduled_job=found), status=201)


def _where(request: web.Request) -> tuple[str, str]:
    return request.match_info["cluster"], request.match_info["job_id"]


@routes.get(ONE, summary="One scheduled job", responses={200: ScheduledJobBody})
async def get_scheduled_job(request: web.Request) -> web.Response:
    found = await services(request).scheduled_jobs.get(principal(request), *_where(request))
    return json_response(ScheduledJobBody(scheduled_job=found))


@routes.put(
    ONE, summary="Replace a scheduled job", body=ScheduledJobSpec, responses={200: ScheduledJobBody}
)
async def put_scheduled_job(request: web.Request, body: ScheduledJobSpec) -> web.Response:
    """The whole job, as for creating it; its cluster and name must be the ones in the URL."""
    cluster, job_id = _where(request)
    if body.cluster != cluster:
        raise InvalidValue("must be the cluster in the URL", field="cluster")
    if body.name != job_id:
        raise InvalidValue(
            "must be the id in the URL: a scheduled job cannot be renamed", field="name"
        )
    found = await services(request).scheduled_jobs.update(principal(request), cluster, job_id, body)
    return json_response(ScheduledJobBody(scheduled_job=found))


@routes.delete(ONE, summary="Remove a scheduled job", responses={204: None})
async def delete_scheduled_job(request: web.Request) -> web.Response:
    await services(request).scheduled_jobs.delete(principal(request), *_where(request))
    return web.Response(status=204)
