"""Workflows: stages of jobs run in order, each stage's output the next one's input."""

from __future__ import annotations

from aiohttp import web

from asgard.http.audit_note import about
from asgard.http.rendering import page_response
from asgard.http.routing import RouteTable, follow, json_response
from asgard.http.schemas import (
    ClusterListQuery,
    DeletionAccepted,
    JobLogsQuery,
    WorkflowBody,
    WorkflowList,
)
from asgard.http.state import principal, services
from asgard.http.streaming import collect, pump
from asgard.models import WorkflowSpec

routes = RouteTable("workflows")

ONE = "/clusters/{cluster}/workflows/{workflow_id}"


@routes.get(
    "/workflows",
    summary="Workflows of the account",
    query=ClusterListQuery,
    responses={200: WorkflowList},
)
async def list_workflows(request: web.Request, query: ClusterListQuery) -> web.Response:
    found = await services(request).workflows.list_workflows(principal(request), query.asked())
    return page_response(WorkflowList, found)


@routes.post(
    "/workflows",
    summary="Run a workflow",
    body=WorkflowSpec,
    links=follow(
        "workflow",
        {"cluster": "cluster", "workflow_id": "id"},
        "get_workflow",
        "delete_workflow",
    ),
    responses={201: WorkflowBody},
)
async def create_workflow(request: web.Request, body: WorkflowSpec) -> web.Response:
    """Stages run in order; each stage's ``/output`` is the next one's ``/input``. A failed
    stage stops the workflow, except for stages marked ``always_run``. 501 on clusters
    whose jobs cannot carry files (Mesos)."""
    about(request, cluster=body.cluster)
    found = await services(request).workflows.create(principal(request), body)
    about(request, id=found.id)
    return json_response(WorkflowBody(workflow=found), status=201)


def _where(request: web.Request) -> tuple[str, str]:
    return request.match_info["cluster"], request.match_info["workflow_id"]


@routes.get(ONE, summary="One workflow, with each stage's state", responses={200: WorkflowBody})
async def get_workflow(request: web.Request) -> web.Response:
    """Each stage names its ``job_id``: its logs and output are that job's."""
    found = await services(request).workflows.get(principal(request), *_where(request))
    return json_response(WorkflowBody(workflow=found))


@routes.get(
    f"{ONE}/stages/{{stage}}/logs",
    summary="One stage's output stream",
    query=JobLogsQuery,
    responses={200: "text"},
)
async def stage_logs(request: web.Request, query: JobLogsQuery) -> web.StreamResponse:
    """The logs of the stage's job; 404 for a stage that has not started (or never will)."""
    cluster, workflow_id = _where(request)
    job_id = await services(request).workflows.stage_job(
        principal(request), cluster, workflow_id, request.match_info["stage"]
    )
    stream = await services(request).jobs.logs(
        principal(request), cluster, job_id, follow=query.follow
    )
    if query.follow:
        return await pump(request, stream, "text/plain; charset=utf-8")
    return web.Response(body=await collect(stream), content_type="text/plain", charset="utf-8")


@routes.delete(
    ONE,
    summary="Stop a workflow and remove everything it made",
    responses={204: None, 202: DeletionAccepted},
)
async def delete_workflow(request: web.Request) -> web.Response:
    """204 once its jobs and volume are gone; 202 when the cluster has not let them go
    yet (it does not answer, or the volume is still in use): the workflow is gone from
    every read already, and Asgard removes the rest as soon as the cluster lets it."""
    if await services(request).workflows.delete(principal(request), *_where(request)):
        return web.Response(status=204)
    message = "being deleted: its jobs and volume go as soon as the cluster lets them"
    return json_response(DeletionAccepted(message=message), status=202)
