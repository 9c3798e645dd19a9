"""The fleet page, ``/ui/``: the fleet's totals, then a page of its clusters' lines.

The totals are over every cluster the account may use; the table shows one page of
them, searched, filtered, sorted (``fleet_model``), the down and stale ones first. The
lines come from the fleet service, which makes them from what Asgard holds, so the page
costs the same whatever page, filter or sort is asked for.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from asgard.errors import InvalidValue
from asgard.http.state import services
from asgard.services.fleet_summary import STATES
from asgard.services.principal import Principal
from asgard.ui.details.common import failure_page
from asgard.ui.fleet_model import LIMITS, fleet_table, read_fleet_view
from asgard.ui.rendering import is_live_refresh, render
from asgard.ui.session import ui_principal

__all__ = ["routes"]

routes = web.RouteTableDef()

LIVE_KINDS = "agent,app,task,job"
BANNER_NAMES = 20
"""The failed clusters the banner names; the table's state filter finds all of them."""


@routes.get("/ui/")
async def fleet_page(request: web.Request) -> web.StreamResponse:
    principal = await ui_principal(request)
    if principal.account is None:
        return render(request, "no_account.html", {}, principal=principal)
    try:
        view = read_fleet_view(request.query)
    except InvalidValue as refused:  # a mistyped bookmark: say which parameter, and the way back
        back = ("/ui/", "Back to the fleet")
        return failure_page(request, principal, refused, title="Not a view of the fleet", back=back)
    fleet = await services(request).fleet.overview(principal)
    table = fleet_table(fleet.clusters, view)
    context = {
        "totals": fleet.totals,
        "errors": fleet.errors,
        "banner_names": BANNER_NAMES,
        "view": view,
        "table": table,
        "states": STATES,
        "all_kinds": sorted(fleet.totals.by_kind),
        "limits": LIMITS,
        **await registry_part(request, principal),
    }
    response = render(request, "fleet.html", context, principal=principal, live_kinds=LIVE_KINDS)
    if request.headers.get("HX-Request") == "true" and not is_live_refresh(request):
        # the form sends every field, empty ones too: the address bar gets the view's own URL
        response.headers["HX-Push-Url"] = view.url(page=table.page)
    return response


async def registry_part(request: web.Request, principal: Principal) -> dict[str, Any]:
    """For an administrator, the registered clusters and the kinds one may register."""
    if not principal.user.is_admin:
        return {"registered": None}
    return {
        "registered": await services(request).cluster_registry.registered(principal),
        "kinds": services(request).cluster_registry.kinds(),
    }
