"""An app's page: its spec, its tasks, its CPU and memory use, and its logs."""

from __future__ import annotations

import asyncio

from aiohttp import web

from asgard import errors
from asgard.http.state import services
from asgard.models import StatsWindow
from asgard.models.app import APP_ID_ROUTE
from asgard.ui.details.common import failure_page, partial, show_page
from asgard.ui.details.table import routes
from asgard.ui.session import ui_principal

__all__ = ["APP_PAGE", "app_page"]

APP_PAGE = "/ui/clusters/{cluster}/apps/{app_id:" + APP_ID_ROUTE + "}"
"""App ids hold ``/`` (``team/web``): the route takes the whole id, as the API's does."""

LOG_TAIL = 200


@routes.get(APP_PAGE)
async def app_page(request: web.Request) -> web.Response:
    principal = await ui_principal(request)
    cluster, app_id = request.match_info["cluster"], request.match_info["app_id"]
    apps = services(request).apps
    try:
        app, tasks, stats = await asyncio.gather(
            apps.get(principal, cluster, app_id),
            partial(apps.tasks(principal, cluster, app_id)),
            partial(apps.stats(principal, cluster, app_id, StatsWindow.ONE_MINUTE)),
        )
    except errors.AsgardError as exc:
        return failure_page(
            request,
            principal,
            exc,
            title=f"App {app_id} on {cluster}",
            back=("/ui/apps", "All apps"),
        )
    context = {
        "app": app,
        "tasks": tasks,
        "stats": stats,
        "logs_src": f"/clusters/{cluster}/apps/{app_id}/logs",
        "log_tail": LOG_TAIL,
    }
    return show_page(
        request,
        "details/app.html",
        context,
        principal=principal,
        live_kinds="app,task",
        cluster=cluster,
    )
