"""A one-time job's page: its states over time, its logs, and its output to download."""

from __future__ import annotations

from aiohttp import web

from asgard import errors
from asgard.http.state import services
from asgard.job_tokens import JOB_PATH
from asgard.models import Capabilities
from asgard.services.principal import Principal
from asgard.ui.details.common import duration, failure_page, show_page
from asgard.ui.details.table import routes
from asgard.ui.session import ui_principal

__all__ = ["JOB_PAGE", "cluster_facts", "job_page"]

JOB_PAGE = "/ui" + JOB_PATH


async def cluster_facts(
    request: web.Request, principal: Principal, cluster: str
) -> tuple[str, Capabilities]:
    """The cluster's kind and what it can do, from what Asgard already knows of it."""
    for status in await services(request).clusters.statuses(principal):
        if status.name == cluster:
            return status.kind, status.capabilities
    raise errors.NotFound(f"unknown cluster '{cluster}'", cluster=cluster)


@routes.get(JOB_PAGE)
async def job_page(request: web.Request) -> web.Response:
    principal = await ui_principal(request)
    cluster, job_id = request.match_info["cluster"], request.match_info["job_id"]
    try:
        kind, capabilities = await cluster_facts(request, principal, cluster)
        job = await services(request).jobs.get(principal, cluster, job_id)
    except errors.AsgardError as exc:
        return failure_page(
            request,
            principal,
            exc,
            title=f"Job {job_id} on {cluster}",
            back=("/ui/jobs", "All jobs"),
        )
    api = JOB_PATH.format(cluster=cluster, job_id=job_id)
    context = {
        "job": job,
        "kind": kind,
        "took": duration(job.status.started_at, job.status.finished_at),
        "logs_src": f"{api}/logs" if capabilities.job_logs else None,
        "output_url": f"{api}/output" if capabilities.job_files and job.status.finished else None,
    }
    return show_page(
        request, "details/job.html", context, principal=principal, live_kinds="job", cluster=cluster
    )
