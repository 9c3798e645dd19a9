"""The fleet page, ``/ui/``: one row per cluster, of any kind, with fleet totals on top."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from asgard.http.state import services
from asgard.models.base import utc_now
from asgard.services.principal import Principal
from asgard.ui.fleet_model import fleet_rows, fleet_totals
from asgard.ui.rendering import render
from asgard.ui.session import ui_principal
from asgard.ui.sources import Sources

__all__ = ["routes"]

routes = web.RouteTableDef()

LIVE_KINDS = "agent,app,task,job"


@routes.get("/ui/")
async def fleet_page(request: web.Request) -> web.StreamResponse:
    """One fan-out per resource (statuses, agents, apps, jobs), all four at once."""
    principal = await ui_principal(request)
    if principal.account is None:
        return render(request, "no_account.html", {}, principal=principal)
    sources = Sources(services(request), principal)
    statuses, agents, apps, jobs = await asyncio.gather(
        sources.statuses(), sources.agents(), sources.apps(), sources.jobs()
    )
    errors = {e.cluster: e for e in (*agents.errors, *apps.errors, *jobs.errors)}
    measured = sources.measured(agents.items)
    rows = fleet_rows(
        statuses, errors.values(), agents.items, apps.items, jobs.items, utc_now(), measured
    )
    context = {
        "rows": rows,
        "totals": fleet_totals(rows),
        "errors": list(errors.values()),
        **await registry_part(request, principal),
    }
    return render(request, "fleet.html", context, principal=principal, live_kinds=LIVE_KINDS)


async def registry_part(request: web.Request, principal: Principal) -> dict[str, Any]:
    """For an administrator, the registered clusters and the kinds one may register."""
    if not principal.user.is_admin:
        return {"registered": None}
    return {
        "registered": await services(request).cluster_registry.registered(principal),
        "kinds": services(request).cluster_registry.kinds(),
    }
