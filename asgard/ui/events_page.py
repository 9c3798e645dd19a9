"""``/ui/events``: the newest changes the account may see, kept current as they come.

Rendered on the server from the event hub's bounded buffer (the one ``Last-Event-ID``
resumes from), newest first: the live region is refreshed like any other page's, so the
list is right after a reload too and no event is drawn by script alone.
"""

from __future__ import annotations

from typing import Final, get_args

from aiohttp import web

from asgard.events import EventKind
from asgard.http.state import services
from asgard.ui.rendering import render
from asgard.ui.session import ui_principal
from asgard.ui.sources import Sources

__all__ = ["routes"]

routes = web.RouteTableDef()

KINDS: Final = get_args(EventKind)
SHOWN: Final = 200

DETAIL: Final = {"agent": "agents", "app": "apps", "job": "jobs"}
"""The kinds of event whose item has a page of its own under its cluster."""


def detail_url(kind: str, cluster: str, item_id: str) -> str | None:
    part = DETAIL.get(kind)
    if kind == "cluster":
        return f"/ui/agents?cluster={cluster}"  # a cluster's page is its agents
    return f"/ui/clusters/{cluster}/{part}/{item_id}" if part else None


def listed(request: web.Request, name: str) -> list[str]:
    """``?kind=app&kind=job`` (the form's checkboxes) or ``?kind=app,job`` (a typed link)."""
    return [
        v.strip() for part in request.query.getall(name, []) for v in part.split(",") if v.strip()
    ]


@routes.get("/ui/events")
async def events_page(request: web.Request) -> web.Response:
    principal = await ui_principal(request)
    kinds = [k for k in listed(request, "kind") if k in KINDS]
    clusters = listed(request, "cluster")
    events = [
        e
        for e in Sources(services(request), principal).recent_events(SHOWN * 5)
        if (not kinds or e.kind in kinds) and (not clusters or e.cluster in clusters)
    ][:SHOWN]
    context = {
        "events": events,
        "kinds": KINDS,
        "chosen_kinds": kinds,
        "chosen_clusters": ",".join(clusters),
        "detail_url": detail_url,
    }
    return render(
        request,
        "events.html",
        context,
        principal=principal,
        live_kinds=",".join(kinds or KINDS),
        live_clusters=",".join(clusters),
    )
