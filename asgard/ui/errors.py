"""Failures on dashboard pages answered as pages, not as the API's JSON.

A page handler that lets an error through (a cluster down where the page did not
expect it, a CSRF token missing on logout, the database away, a bug) gets the same
failure page the detail pages show, with the status the API would give; a bug is
logged with its traceback and the page names the request id, never the traceback.
"""

from __future__ import annotations

import structlog
from aiohttp import web
from aiohttp.typedefs import Handler

from asgard import errors
from asgard.http.errors import status_of
from asgard.http.state import PRINCIPAL, REQUEST_ID
from asgard.services.principal import Principal
from asgard.ui.details.common import HEADLINES, failure_page
from asgard.ui.paths import is_static_path, is_ui_path
from asgard.ui.rendering import render

__all__ = ["ui_errors"]

log = structlog.get_logger("asgard.ui")


def _principal(request: web.Request) -> Principal | None:
    found = request.get(PRINCIPAL)
    return found if isinstance(found, Principal) else None


def _page(request: web.Request, status: int, message: str) -> web.Response:
    context = {
        "title": HEADLINES.get(status, "Something went wrong"),
        "status": status,
        "headline": HEADLINES.get(status, "Something went wrong"),
        "messages": [message],
        "cluster": None,
        "back": ("/ui/", "Back to the fleet"),
    }
    return render(
        request, "details/failure.html", context, principal=_principal(request), status=status
    )


@web.middleware
async def ui_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not is_ui_path(request.path) or is_static_path(request.path):
        return await handler(request)
    try:
        return await handler(request)
    except errors.DatabaseUnavailable as exc:
        log.warning("the database does not answer", reason=exc.reason)
        return failure_page(request, _principal(request), exc, title="Not available")
    except errors.AsgardError as exc:
        title = HEADLINES.get(status_of(exc), "Something went wrong")
        return failure_page(request, _principal(request), exc, title=title)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return _page(request, exc.status, exc.reason)
    except ConnectionResetError:
        raise
    except Exception:
        log.exception("unhandled error on a dashboard page")
        request_id = request.get(REQUEST_ID, "unknown")
        return _page(
            request, 500, f"internal error; quote request id {request_id} when reporting it"
        )
