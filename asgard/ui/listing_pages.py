"""The merged tables: agents, apps (with their tasks), jobs, workflows, scheduled jobs.

Each has Cluster and Kind columns, filters, sorting and pages in the URL (``listing``),
and above it the banner naming the clusters that failed; a failed cluster's last-known
rows are shown greyed, "stale since ...".
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import Any, TypeVar

from aiohttp import web

from asgard.errors import AsgardError
from asgard.http.state import services
from asgard.models import App, ClusterErrorInfo, ClusterStatus, Task
from asgard.services.listing import ListRequest
from asgard.services.principal import Principal
from asgard.ui import table_specs as specs
from asgard.ui.listing import TableSpec, View, page_rows, read_view
from asgard.ui.rendering import render
from asgard.ui.session import ui_principal
from asgard.ui.sources import Found, Sources, stale_since

__all__ = ["routes"]

T = TypeVar("T")
routes = web.RouteTableDef()
Fetch = Callable[[Sources, Collection[str] | None], Awaitable[Found[Any]]]


def chosen_clusters(view: View, kinds: Mapping[str, str]) -> set[str] | None:
    """The clusters to ask (None: all): those named that exist, of the kind asked for."""
    if not view.cluster and not view.kind:
        return None
    names = set(view.cluster) & set(kinds) if view.cluster else set(kinds)
    return {n for n in names if not view.kind or kinds[n] == view.kind}


def failed_clusters(
    errors: list[ClusterErrorInfo], statuses: list[ClusterStatus], chosen: set[str] | None
) -> list[ClusterErrorInfo]:
    """The listing's failures, and the clusters known to be down that it did not ask
    (workflows are Asgard's own records): the banner names every one."""
    named = {e.cluster for e in errors}
    down = [
        ClusterErrorInfo(
            cluster=s.name,
            msg=s.error or "unreachable",
            kind="unreachable",
            last_contact_at=s.last_contact_at,
        )
        for s in statuses
        if s.status == "unreachable"
        and s.name not in named
        and (chosen is None or s.name in chosen)
    ]
    return [*errors, *down]


async def listing(
    request: web.Request,
    *,
    heading: str,
    table_id: str,
    fetch: Fetch,
    spec: TableSpec[Any],
) -> tuple[Principal, dict[str, Any] | None]:
    """The context every merged table renders from; None for a user without an account."""
    principal = await ui_principal(request)
    if principal.account is None:
        return principal, None
    view = read_view(request)
    sources = Sources(services(request), principal)
    statuses = await sources.statuses()
    kinds = {s.name: s.kind for s in statuses}
    chosen = chosen_clusters(view, kinds)
    found = await fetch(sources, chosen)
    errors = failed_clusters(found.errors, statuses, chosen)
    stale = {e.cluster: since for e in errors if (since := stale_since(e)) is not None}
    context = {
        "heading": heading,
        "table_id": table_id,
        "view": view,
        "page": page_rows(spec, view, kinds, found.items),
        "errors": errors,
        "stale": stale,
        "kinds": kinds,
        "as_of": found.as_of,
        "all_clusters": sorted(kinds),
        "all_kinds": sorted(set(kinds.values())),
        "states": spec.states,
    }
    return principal, context


def show(
    request: web.Request,
    template: str,
    principal: Principal,
    context: dict[str, Any] | None,
    live_kinds: str,
) -> web.Response:
    if context is None:
        return render(request, "no_account.html", {}, principal=principal)
    clusters = ",".join(read_view(request).cluster)
    return render(
        request,
        template,
        context,
        principal=principal,
        live_kinds=live_kinds,
        live_clusters=clusters,
    )


async def _page(
    request: web.Request, name: str, heading: str, fetch: Fetch, spec: TableSpec[Any]
) -> tuple[Principal, dict[str, Any] | None]:
    return await listing(request, heading=heading, table_id=f"{name}-table", fetch=fetch, spec=spec)


@routes.get("/ui/agents")
async def agents_page(request: web.Request) -> web.Response:
    principal, context = await _page(request, "agents", "Agents", Sources.agents, specs.AGENTS)
    return show(request, "agents.html", principal, context, "agent")


async def tasks_of(
    request: web.Request, principal: Principal, apps: list[App], failed: set[str]
) -> dict[tuple[str, str], list[Task] | None]:
    """The tasks of the apps on this page, from one read of every task of their clusters
    (cached); None for the apps of a cluster that failed, whose tasks cannot be told."""
    clusters = sorted({a.cluster for a in apps} - failed)
    by_app: dict[tuple[str, str], list[Task]] = {}
    if clusters:
        try:
            found = await services(request).apps.all_tasks(principal, ListRequest(clusters))
        except AsgardError:
            found = None
        for task in found.items if found is not None else []:
            by_app.setdefault((task.cluster, task.app_id), []).append(task)
        failed = failed | ({e.cluster for e in found.errors} if found else set(clusters))
    return {
        (a.cluster, a.id): None if a.cluster in failed else by_app.get((a.cluster, a.id), [])
        for a in apps
    }


@routes.get("/ui/apps")
async def apps_page(request: web.Request) -> web.Response:
    principal, context = await _page(request, "apps", "Apps", Sources.apps, specs.APPS)
    if context is not None:
        failed = {e.cluster for e in context["errors"]}
        context["tasks"] = await tasks_of(request, principal, context["page"].items, failed)
    return show(request, "apps.html", principal, context, "app,task")


@routes.get("/ui/jobs")
async def jobs_page(request: web.Request) -> web.Response:
    principal, context = await _page(request, "jobs", "Jobs", Sources.jobs, specs.JOBS)
    return show(request, "jobs.html", principal, context, "job")


@routes.get("/ui/workflows")
async def workflows_page(request: web.Request) -> web.Response:
    principal, context = await _page(
        request, "workflows", "Workflows", Sources.workflows, specs.WORKFLOWS
    )
    return show(request, "workflows.html", principal, context, "workflow,job")


@routes.get("/ui/scheduled-jobs")
async def scheduled_jobs_page(request: web.Request) -> web.Response:
    principal, context = await _page(
        request,
        "scheduled-jobs",
        "Scheduled jobs",
        Sources.scheduled_jobs,
        specs.SCHEDULED_JOBS,
    )
    return show(request, "scheduled_jobs.html", principal, context, "job")
