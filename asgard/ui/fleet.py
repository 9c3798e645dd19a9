"""Placeholder, filled in next."""

from __future__ import annotations

from aiohttp import web

routes = web.RouteTableDef()


@routes.get("/ui/")
async def fleet_page(request: web.Request) -> web.StreamResponse:
    from asgard.ui.rendering import render
    from asgard.ui.session import ui_principal

    principal = await ui_principal(request)
    return render(request, "fleet.html", {}, principal=principal)
