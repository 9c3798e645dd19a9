"""A workflow's page: its stages as a timeline, with states, durations and each one's logs."""

from __future__ import annotations

from aiohttp import web

from asgard import errors
from asgard.http.state import services
from asgard.models import Workflow
from asgard.services.listing import ListRequest
from asgard.services.pagination import MAX_LIMIT
from asgard.services.principal import Principal
from asgard.ui.details.common import duration, failure_page, show_page
from asgard.ui.details.table import routes
from asgard.ui.session import ui_principal

__all__ = ["WORKFLOW_PAGE", "find_workflow", "workflow_page"]

WORKFLOW_PAGE = "/ui/clusters/{cluster}/workflows/{workflow_id}"


async def find_workflow(request: web.Request, principal: Principal, workflow_id: str) -> Workflow:
    """The account's workflow of that id on any cluster: ids carry a random suffix, so one
    id names one workflow, and ``/ui/workflows/{id}`` needs no cluster."""
    cursor: str | None = None
    while True:
        listed = await services(request).workflows.list_workflows(
            principal, ListRequest(limit=MAX_LIMIT, cursor=cursor)
        )
        page = listed.page
        found = next((w for w in page.items if w.id == workflow_id), None)
        if found is not None:
            return found
        if page.next_cursor is None:
            raise errors.NotFound(f"workflow '{workflow_id}' not found")
        cursor = page.next_cursor


def timeline(flow: Workflow) -> list[dict[str, object]]:
    """Each stage with what the page shows of it: how long it took, where its logs are."""
    api = f"/clusters/{flow.cluster}/workflows/{flow.id}/stages"
    return [
        {
            "stage": stage,
            "took": duration(stage.started_at, stage.finished_at),
            "logs_src": f"{api}/{stage.name}/logs" if stage.job_id else None,
        }
        for stage in flow.stages
    ]


def _show(request: web.Request, principal: Principal, flow: Workflow) -> web.Response:
    context = {
        "workflow": flow,
        "took": duration(flow.created_at, flow.finished_at),
        "stages": timeline(flow),
    }
    return show_page(
        request,
        "details/workflow.html",
        context,
        principal=principal,
        live_kinds="workflow,job",
        cluster=flow.cluster,
    )


@routes.get(WORKFLOW_PAGE)
async def workflow_page(request: web.Request) -> web.Response:
    principal = await ui_principal(request)
    cluster, workflow_id = request.match_info["cluster"], request.match_info["workflow_id"]
    try:
        flow = await services(request).workflows.get(principal, cluster, workflow_id)
    except errors.AsgardError as exc:
        title = f"Workflow {workflow_id} on {cluster}"
        return failure_page(
            request, principal, exc, title=title, back=("/ui/workflows", "All workflows")
        )
    return _show(request, principal, flow)


@routes.get("/ui/workflows/{workflow_id}")
async def workflow_by_id(request: web.Request) -> web.Response:
    principal = await ui_principal(request)
    workflow_id = request.match_info["workflow_id"]
    try:
        flow = await find_workflow(request, principal, workflow_id)
    except errors.AsgardError as exc:
        title = f"Workflow {workflow_id}"
        return failure_page(
            request, principal, exc, title=title, back=("/ui/workflows", "All workflows")
        )
    return _show(request, principal, flow)
