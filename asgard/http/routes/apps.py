"""Apps: long-running services on every cluster."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from asgard.http.audit_note import about
from asgard.http.log_render import CONTENT_TYPES, render
from asgard.http.rendering import page_response
from asgard.http.routing import RouteTable, follow, json_response
from asgard.http.schemas import (
    AppBody,
    AppList,
    AppVersionBody,
    AppVersionList,
    ClusterListQuery,
    LogsQuery,
    RollbackBody,
    StatsBody,
    TaskList,
    TaskLogsQuery,
)
from asgard.http.state import principal, services
from asgard.http.streaming import collect, pump
from asgard.models import AppPatch, AppSpec, LogLine, StatsWindow
from asgard.models.app import APP_ID_ROUTE

routes = RouteTable("apps")

APP = "{app_id:" + APP_ID_ROUTE.replace("{", "{{").replace("}", "}}") + "}"


@routes.get(
    "/apps",
    summary="Apps of the account on every cluster it may use",
    query=ClusterListQuery,
    responses={200: AppList},
)
async def list_apps(request: web.Request, query: ClusterListQuery) -> web.Response:
    """Apps of the account's namespace, ids without the namespace, ordered by cluster then id."""
    found = await services(request).apps.list_apps(principal(request), query.asked())
    return page_response(AppList, found, cached=True)


@routes.post(
    "/apps",
    summary="Deploy an app",
    body=AppSpec,
    links=follow(
        "app",
        {"cluster": "cluster", "app_id": "id"},
        "get_app",
        "patch_app",
        "delete_app",
        "restart_app",
        "app_versions",
        "rollback_app",
        "list_tasks",
        "app_stats",
        "app_stats_1m",
        "app_logs",
    ),
    responses={201: AppBody},
)
async def create_app(request: web.Request, body: AppSpec) -> web.Response:
    """Deploys on ``cluster`` in the account's namespace. 409 when the id is taken there,
    422 when the image does not exist; nothing is left behind when it fails."""
    about(request, cluster=body.cluster, id=body.id)
    app = await services(request).apps.create(principal(request), body)
    return json_response(AppBody(app=app), status=201)


def _where(request: web.Request) -> tuple[str, str]:
    return request.match_info["cluster"], request.match_info["app_id"]


@routes.post(
    f"/clusters/{{cluster}}/apps/{APP}/restart",
    summary="Replace every instance of the app",
    responses={200: AppBody},
)
async def restart_app(request: web.Request) -> web.Response:
    app = await services(request).apps.restart(principal(request), *_where(request))
    return json_response(AppBody(app=app))


@routes.get(
    f"/clusters/{{cluster}}/apps/{APP}/versions",
    summary="The specs the app ran, newest first",
    responses={200: AppVersionList},
)
async def app_versions(request: web.Request) -> web.Response:
    """From the cluster's own history where it keeps one (a Deployment's ReplicaSets,
    Marathon's versions, a Swarm service's previous spec), then the older specs Asgard
    deployed. ``by`` is who deployed a version through Asgard; ``unsupported`` says why a
    version cannot be rolled back to."""
    found = await services(request).apps.versions(principal(request), *_where(request))
    return json_response(AppVersionList(versions=found))


@routes.get(
    f"/clusters/{{cluster}}/apps/{APP}/versions/{{version}}",
    summary="One version of the app",
    responses={200: AppVersionBody},
)
async def app_version(request: web.Request) -> web.Response:
    """404 for an unknown app or version."""
    found = await services(request).apps.version(
        principal(request), *_where(request), request.match_info["version"]
    )
    return json_response(AppVersionBody(version=found))


@routes.post(
    f"/clusters/{{cluster}}/apps/{APP}/rollback",
    summary="Deploy an earlier version of the app again",
    body=RollbackBody,
    responses={200: AppBody},
)
async def rollback_app(request: web.Request, body: RollbackBody) -> web.Response:
    """Redeploys the version's spec as an update would. 404 for an unknown version (or no
    earlier one), 409 where the cluster refuses while a deployment is in progress, 422 for a
    version whose spec Asgard cannot deploy, with the reason."""
    app = await services(request).apps.rollback(principal(request), *_where(request), body.version)
    return json_response(AppBody(app=app))


@routes.get(
    f"/clusters/{{cluster}}/apps/{APP}/stats/avg-1min",
    summary="CPU and memory use of the app, over the last minute where history is kept",
    responses={200: StatsBody},
)
async def app_stats_1m(request: web.Request) -> web.Response:
    """``source`` says whether the figures are an average or a sample taken now."""
    stats = await services(request).apps.stats(
        principal(request), *_where(request), StatsWindow.ONE_MINUTE
    )
    return json_response(StatsBody(stats=stats))


@routes.get(
    f"/clusters/{{cluster}}/apps/{APP}/stats",
    summary="CPU and memory use of the app, over the last hour where history is kept",
    responses={200: StatsBody},
)
async def app_stats(request: web.Request) -> web.Response:
    """``source`` says whether the figures are an average or a sample taken now."""
    stats = await services(request).apps.stats(
        principal(request), *_where(request), StatsWindow.ONE_HOUR
    )
    return json_response(StatsBody(stats=stats))


async def _send(
    request: web.Request, lines: AsyncIterator[LogLine], query: TaskLogsQuery, *, labelled: bool
) -> web.StreamResponse:
    chunks = render(lines, query.format, labelled=labelled)
    content_type = CONTENT_TYPES[query.format]
    if query.follow:
        return await pump(request, chunks, f"{content_type}; charset=utf-8")
    return web.Response(body=await collect(chunks), content_type=content_type, charset="utf-8")


@routes.get(
    f"/clusters/{{cluster}}/apps/{APP}/tasks/{{task_id}}/logs",
    summary="One task's output: its last lines, then new ones with follow until it ends",
    query=TaskLogsQuery,
    responses={200: "log-lines"},
)
async def task_logs(request: web.Request, query: TaskLogsQuery) -> web.StreamResponse:
    """404 for a task the app does not have (the ids ``/tasks`` lists). While following, a
    reader slower than the task's output loses lines, and a marker line says how many."""
    lines = await services(request).apps.task_logs(
        principal(request),
        *_where(request),
        request.match_info["task_id"],
        tail=query.tail,
        since=query.since,
        follow=query.follow,
    )
    return await _send(request, lines, query, labelled=False)


@routes.get(
    f"/clusters/{{cluster}}/apps/{APP}/logs",
    summary="The app's output: the last lines of every instance, then new ones with follow",
    query=LogsQuery,
    responses={200: "log-lines"},
)
async def app_logs(request: web.Request, query: LogsQuery) -> web.StreamResponse:
    """With ``follow=true`` the answer streams until the client goes away. With
    ``tasks=all`` every task's lines are merged in time order, each behind its task id;
    while following, tasks that start are joined and tasks that end say so in a marker
    line, and a slow reader loses lines rather than being buffered for (a marker line
    says how many). ``since`` and ``format=jsonl`` are about lines read one by one, so
    they ask for the merged form too. Without any of them, each instance's output is sent
    as it comes, behind ``[instance]`` when there are several."""
    if query.tasks != "all" and query.since is None and query.format == "text":
        return await _instances_as_they_come(request, query)
    lines = await services(request).apps.merged_logs(
        principal(request),
        *_where(request),
        tail=query.tail,
        since=query.since,
        follow=query.follow,
    )
    return await _send(request, lines, query, labelled=True)


async def _instances_as_they_come(request: web.Request, query: LogsQuery) -> web.StreamResponse:
    stream = await services(request).apps.logs(
        principal(request), *_where(request), tail=query.tail, follow=query.follow
    )
    if query.follow:
        return await pump(request, stream, "text/plain; charset=utf-8")
    return web.Response(body=await collect(stream), content_type="text/plain", charset="utf-8")


@routes.get(
    f"/clusters/{{cluster}}/apps/{APP}/tasks",
    summary="The app's running instances",
    responses={200: TaskList},
)
async def list_tasks(request: web.Request) -> web.Response:
    tasks = await services(request).apps.tasks(
        principal(request), request.match_info["cluster"], request.match_info["app_id"]
    )
    return json_response(TaskList(tasks=tasks))


@routes.get(f"/clusters/{{cluster}}/apps/{APP}", summary="One app", responses={200: AppBody})
async def get_app(request: web.Request) -> web.Response:
    """Status and instance counts are read from the cluster now, never remembered."""
    app = await services(request).apps.get(
        principal(request), request.match_info["cluster"], request.match_info["app_id"]
    )
    return json_response(AppBody(app=app))


@routes.patch(
    f"/clusters/{{cluster}}/apps/{APP}",
    summary="Change an app and redeploy it",
    body=AppPatch,
    responses={200: AppBody},
)
async def patch_app(request: web.Request, body: AppPatch) -> web.Response:
    """Any of instances, image, cmd, args, env, labels, resources. ``instances: 0`` suspends
    the app and keeps its definition."""
    app = await services(request).apps.update(principal(request), *_where(request), body)
    return json_response(AppBody(app=app))


@routes.delete(
    f"/clusters/{{cluster}}/apps/{APP}",
    summary="Remove an app and everything created for it",
    responses={204: None},
)
async def delete_app(request: web.Request) -> web.Response:
    await services(request).apps.delete(principal(request), *_where(request))
    return web.Response(status=204)
