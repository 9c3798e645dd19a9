"""A scheduled job's page: its schedule, when it runs next, and its last runs."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from aiohttp import web

from asgard import errors
from asgard.http.state import services
from asgard.models import Job, ScheduledJob
from asgard.scheduling.scheduler import SCHEDULE_LABEL
from asgard.services.listing import ListRequest
from asgard.services.pagination import MAX_LIMIT
from asgard.services.principal import Principal
from asgard.ui.details.common import Partial, duration, failure_page, partial, show_page
from asgard.ui.details.table import routes
from asgard.ui.session import ui_principal

__all__ = ["SCHEDULED_PAGE", "is_run_of", "scheduled_job_page"]

SCHEDULED_PAGE = "/ui/clusters/{cluster}/scheduled-jobs/{job_id}"
LAST_RUNS = 10
_NEVER = datetime.min.replace(tzinfo=UTC)


def is_run_of(job: Job, schedule: ScheduledJob) -> bool:
    """A job its schedule started: labelled so by Asgard's scheduler, named by the schedule
    as its last run, or named ``<schedule>-<digits>`` as a CronJob names its Jobs."""
    if job.labels.get(SCHEDULE_LABEL) == schedule.id or job.id == schedule.last_job_id:
        return True
    return re.fullmatch(re.escape(schedule.id) + r"-[0-9]+", job.id) is not None


async def last_runs(
    request: web.Request, principal: Principal, schedule: ScheduledJob
) -> list[dict[str, object]]:
    jobs = services(request).jobs
    found = await jobs.list_jobs(principal, ListRequest([schedule.cluster], MAX_LIMIT, stale=True))
    runs = [j for j in found.page.items if is_run_of(j, schedule)]
    runs.sort(key=lambda j: j.created_at or j.status.started_at or _NEVER, reverse=True)
    return [
        {"job": run, "took": duration(run.status.started_at, run.status.finished_at)}
        for run in runs[:LAST_RUNS]
    ]


@routes.get(SCHEDULED_PAGE)
async def scheduled_job_page(request: web.Request) -> web.Response:
    principal = await ui_principal(request)
    cluster, job_id = request.match_info["cluster"], request.match_info["job_id"]
    try:
        schedule = await services(request).scheduled_jobs.get(principal, cluster, job_id)
    except errors.AsgardError as exc:
        return failure_page(
            request,
            principal,
            exc,
            title=f"Scheduled job {job_id} on {cluster}",
            back=("/ui/scheduled-jobs", "All scheduled jobs"),
        )
    runs: Partial[list[dict[str, object]]] = await partial(last_runs(request, principal, schedule))
    context = {"schedule": schedule, "runs": runs}
    return show_page(
        request,
        "details/scheduled_job.html",
        context,
        principal=principal,
        live_kinds="job",
        cluster=cluster,
    )
