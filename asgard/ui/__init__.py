"""The dashboard: server-rendered pages under ``/ui/`` over the same services as the API.

``setup_ui`` mounts it on the application: the Jinja2 environment, the pages, the
static files (a long cache: a vendored file's path names its version), and the headers
every dashboard answer carries, among them a Content-Security-Policy that allows no
inline script or style. None of these routes is an API operation: they are absent from
the OpenAPI document, and the API's authentication leaves them to ``ui_principal``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import aiohttp_jinja2
import jinja2
from aiohttp import web

from asgard.http.routing import typed_path
from asgard.ui import (
    actions,
    cluster_registry,
    details,
    events_page,
    fleet,
    listing_pages,
    login,
)
from asgard.ui.assets import STATIC_DIR, static_url
from asgard.ui.errors import ui_errors
from asgard.ui.paths import UI_PREFIX, is_static_path, is_ui_path
from asgard.ui.rendering import FILTERS

__all__ = ["CSP", "UI_PREFIX", "is_ui_path", "setup_ui"]

HERE = Path(__file__).parent
CSP: Final = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
STATIC_CACHE: Final = "public, max-age=31536000, immutable"
PAGE_CACHE: Final = "no-store"
"""Pages hold one user's data: no shared or back-button cache keeps them."""


async def _to_fleet(_request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound(UI_PREFIX + "/")


async def _ui_headers(request: web.Request, response: web.StreamResponse) -> None:
    if not is_ui_path(request.path):
        return
    response.headers["Content-Security-Policy"] = CSP
    if is_static_path(request.path):
        if response.status == 200:
            response.headers["Cache-Control"] = STATIC_CACHE
    else:
        response.headers.setdefault("Cache-Control", PAGE_CACHE)


ROUTE_TABLES: Final = (
    login.routes,
    fleet.routes,
    listing_pages.routes,
    events_page.routes,
    details.routes,
    actions.routes,
    cluster_registry.routes,
)


def setup_ui(app: web.Application) -> None:
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(FILTERS)
    env.globals["static_url"] = static_url
    app.router.add_get("/", _to_fleet)
    for table in ROUTE_TABLES:
        for route in table:  # each id of a page's URL is checked by its kind's pattern
            assert isinstance(route, web.RouteDef)
            app.router.add_route(
                route.method, typed_path(route.path), route.handler, **route.kwargs
            )
    app.router.add_static(UI_PREFIX + "/static/", STATIC_DIR, name="ui-static")
    app.on_response_prepare.append(_ui_headers)
    app.middlewares.append(ui_errors)  # innermost: a page's failure becomes a page
