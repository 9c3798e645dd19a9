"""What every detail page shares: its failures shown as pages, flash messages, durations,
and the parts of a page that may be missing without the page failing.

A detail page is about one thing on one cluster. When that thing does not exist the
answer is a 404 page; when its cluster does not answer, a page that says so with the
status the API would give (502, 504), never the API's JSON or a traceback.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Generic, Literal, TypeVar
from urllib.parse import quote, unquote

from aiohttp import web

from asgard import errors
from asgard.http.errors import status_of
from asgard.models.base import utc_now
from asgard.services.principal import Principal
from asgard.ui.rendering import is_live_refresh, render

__all__ = [
    "Flash",
    "Partial",
    "duration",
    "failure_page",
    "partial",
    "pop_flash",
    "set_flash",
    "show_page",
]

T = TypeVar("T")

FLASH_COOKIE: Final = "asgard_flash"
FLASH_MAX: Final = 300

HEADLINES: Final = {
    400: "The request was not understood",
    403: "Not allowed",
    404: "Not found",
    409: "Conflict",
    422: "That value is not accepted",
    501: "Not supported on this kind of cluster",
    502: "The cluster does not answer",
    503: "The database does not answer",
    504: "The cluster did not answer in time",
}


@dataclass(frozen=True)
class Flash:
    """A one-line outcome of a write, shown once on the page the write came back to."""

    kind: Literal["ok", "error"]
    text: str


def set_flash(response: web.StreamResponse, flash: Flash) -> None:
    """Kept in a short cookie, not the URL: a reload or a shared link does not repeat it,
    and nobody can put words on someone else's page with a crafted link."""
    value = quote(f"{flash.kind}:{flash.text[:FLASH_MAX]}", safe="")
    response.set_cookie(
        FLASH_COOKIE, value, max_age=60, path="/ui", httponly=True, samesite="Strict"
    )


def pop_flash(request: web.Request) -> Flash | None:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    kind, _, text = unquote(raw).partition(":")
    return Flash("error" if kind == "error" else "ok", text[:FLASH_MAX])


def show_page(
    request: web.Request,
    template: str,
    context: Mapping[str, Any],
    *,
    principal: Principal,
    live_kinds: str,
    cluster: str,
) -> web.Response:
    """A detail page with its flash (read once, then forgotten) and its live kinds.

    A live refresh leaves the flash alone: it swaps only the live regions, and the page a
    write leads to (which may come after a refresh the write's own event caused) shows it."""
    flash = pop_flash(request)
    response = render(
        request,
        template,
        {**context, "flash": flash},
        principal=principal,
        live_kinds=live_kinds,
        live_clusters=cluster,
    )
    if flash is not None and not is_live_refresh(request):
        response.del_cookie(FLASH_COOKIE, path="/ui")
    return response


def failure_page(
    request: web.Request,
    principal: Principal | None,
    exc: errors.AsgardError,
    *,
    title: str,
    back: tuple[str, str] | None = None,
) -> web.Response:
    """The page for a failure: what was asked for, why it cannot be shown, where to go."""
    status = status_of(exc)
    cluster = next((d.cluster for d in exc.details if d.cluster), None)
    context = {
        "title": title,
        "status": status,
        "headline": HEADLINES.get(status, "Something went wrong"),
        "messages": [d.msg for d in exc.details],
        "cluster": cluster
        if isinstance(exc, errors.ClusterError | errors.AllClustersFailed)
        else None,
        "back": back,
    }
    return render(request, "details/failure.html", context, principal=principal, status=status)


@dataclass(frozen=True)
class Partial(Generic[T]):
    """A part of a page that may fail on its own (stats, history) and says why it did."""

    value: T | None
    error: str | None = None


async def partial(call: Awaitable[T]) -> Partial[T]:
    """The answer, or the reason there is none: the rest of the page is still shown."""
    try:
        return Partial(await call)
    except errors.AsgardError as exc:
        return Partial(None, exc.msg)


def duration(start: datetime | None, end: datetime | None, now: datetime | None = None) -> str:
    """``1 h 4 min``, ``3 min 5 s``, ``12 s``; counting to now while it still runs."""
    if start is None:
        return "-"
    seconds = max(0, int(((end or now or utc_now()) - start).total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s"
    return f"{secs} s"
