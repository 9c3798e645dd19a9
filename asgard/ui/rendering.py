"""Rendering a page: the context every page shares, and the filters templates use.

Every page gets who is asking (``principal``), whether they may write (``can_write``),
the CSRF token of their session, the navigation, and the kinds of events it follows
(``live_kinds``): base.html turns them into an element of htmx's SSE extension connected
to ``/events`` for those kinds, holding the trigger that gets the page again and swaps its
live regions (``live_events_url``, ``live_triggers``, ``LIVE_TRIGGER``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Final
from urllib.parse import urlencode

import aiohttp_jinja2
from aiohttp import web

from asgard.http.sessions import csrf_token
from asgard.http.state import SERVICES
from asgard.models import Role
from asgard.models.base import utc_now
from asgard.services.principal import Principal
from asgard.ui.sources import stale_since

__all__ = ["FILTERS", "LIVE_TRIGGER", "NAV", "is_live_refresh", "live_parts", "render"]

NAV: Final = (
    ("/ui/", "Fleet"),
    ("/ui/agents", "Agents"),
    ("/ui/apps", "Apps"),
    ("/ui/jobs", "Jobs"),
    ("/ui/workflows", "Workflows"),
    ("/ui/scheduled-jobs", "Scheduled jobs"),
    ("/ui/events", "Events"),
)


LIVE_TRIGGER: Final = "live-refresh"
"""The id of the element whose htmx request refreshes a page's live regions; htmx sends it
as ``HX-Trigger``, so the server knows a refresh from a page the browser is shown."""
NOTICES: Final = ("resync", "overflow", "revoked")
"""Asgard's own events on the stream: what was missed is unknown, so the page is read again;
and the access the page was opened with was taken away (its session ended, the reader left
the account), which reading the page again shows: the login page, or the refusal."""


def is_live_refresh(request: web.Request) -> bool:
    """Whether this GET is the live refresh of an open page (only its live regions are
    taken from the answer), not a page the browser is about to show."""
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-Trigger") == LIVE_TRIGGER
    )


def live_parts(
    live_kinds: str, live_clusters: str, rendered_at: str | None = None
) -> dict[str, str]:
    """The stream a page listens to, and the htmx triggers of its refresh: one per kind of
    event followed, and Asgard's notices (``sse:resync``, ``sse:overflow``, ``sse:revoked``).

    ``rendered_at`` is the id of the newest event when the page was rendered: the stream
    starts after it (``after``), so that what changed between the render and the
    browser's connecting (a cluster going down a second after the page was made) still
    refreshes the page, rather than leaving it as rendered until the next change."""
    kinds = [k.strip() for k in live_kinds.split(",") if k.strip()]
    if not kinds:
        return {"live_events_url": "", "live_triggers": ""}
    if "cluster" not in kinds:  # a cluster going down or coming back changes every live page
        kinds.append("cluster")
    query = {"kind": ",".join(kinds)}
    clusters = live_clusters.strip()
    if clusters:
        query["cluster"] = clusters
    if rendered_at:
        query["after"] = rendered_at
    triggers = [f"sse:{name}" for name in (*kinds, *NOTICES)]
    return {
        "live_events_url": "/events?" + urlencode(query, safe=","),
        "live_triggers": ", ".join(triggers),
    }


def can_write(principal: Principal) -> bool:
    """Whether to show write buttons; the services check the role again on every write."""
    return principal.role is not None and principal.role.allows(Role.OPERATOR)


def render(
    request: web.Request,
    template: str,
    context: Mapping[str, Any],
    *,
    principal: Principal | None,
    live_kinds: str = "",
    live_clusters: str = "",
    status: int = 200,
) -> web.Response:
    base: dict[str, Any] = {
        "principal": principal,
        "can_write": principal is not None and can_write(principal),
        "csrf_token": csrf_token(request) if principal is not None else "",
        "nav": NAV,
        "current": request.path,
        "here": request.path_qs,
        "live_kinds": live_kinds,
        "live_clusters": live_clusters,
        "live_trigger": LIVE_TRIGGER,
        **live_parts(live_kinds, live_clusters, _newest_event_id(request)),
    }
    response = aiohttp_jinja2.render_template(template, request, {**base, **context}, status=status)
    # gzip (or deflate) when the browser takes it: a page of tables is text that shrinks
    # to a tenth, which a person on a slow link notices more than the server's millisecond.
    response.enable_compression()
    return response


def _newest_event_id(request: web.Request) -> str | None:
    found = request.app.get(SERVICES)
    return found.events.last_id() if found is not None else None


def ago(when: datetime | None, now: datetime | None = None) -> str:
    """``5 s ago``, ``3 min ago``, ``2 h ago``, ``4 d ago``: what a reader takes in at once."""
    if when is None:
        return "never"
    seconds = max(0, int(((now or utc_now()) - when).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return f"{seconds} s ago"


def iso(when: datetime | None) -> str:
    return "" if when is None else when.strftime("%Y-%m-%dT%H:%M:%SZ")


def mib(value: float | None) -> str:
    """Memory given in MiB, shown in the unit that reads best."""
    if value is None:
        return "-"
    for unit, size in (("TiB", 1024.0**2), ("GiB", 1024.0)):
        if value >= size:
            return f"{value / size:.1f} {unit}"
    return f"{value:.0f} MiB"


def cores(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.2f}".rstrip("0").rstrip(".")


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} %"


FILTERS: Final[dict[str, Callable[..., Any]]] = {
    "ago": ago,
    "iso": iso,
    "mib": mib,
    "cores": cores,
    "percent": percent,
    "stale_since": stale_since,
}
