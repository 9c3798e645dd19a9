"""Apps: long-running services on every cluster."""

from __future__ import annotations

from aiohttp import web

from asgard.http.routing import RouteTable, json_response
from asgard.http.schemas import AppBody, AppList, ClusterListQuery, TaskList
from asgard.http.state import principal, services
from asgard.models.app import APP_ID_PATTERN

routes = RouteTable("apps")

APP = "{app_id:" + APP_ID_PATTERN.strip("^$").replace("{", "{{").replace("}", "}}") + "}"


@routes.get(
    "/apps",
    summary="Apps of the account on every cluster it may use",
    query=ClusterListQuery,
    responses={200: AppList},
)
async def list_apps(request: web.Request, query: ClusterListQuery) -> web.Response:
    """Apps of the account's namespace, ids without the namespace, ordered by cluster then id."""
    found = await services(request).apps.list(
        principal(request), clusters=query.cluster, limit=query.limit, cursor=query.cursor
    )
    return json_response(
        AppList(
            apps=found.page.items,
            errors=found.errors,
            next_cursor=found.page.next_cursor,
            total=found.page.total,
        )
    )


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
