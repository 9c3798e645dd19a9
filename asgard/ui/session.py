"""Who is reading a dashboard page: the principal of the session cookie, or, without a
live session, a redirect to the login page that comes back here after it.

The session and its CSRF token travel over HTTP as the API's do (``asgard.http.sessions``);
what is the dashboard's own is only where a reader without one is sent.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import quote

from aiohttp import web

from asgard.http.sessions import session_principal
from asgard.http.state import PRINCIPAL
from asgard.services.principal import Principal

__all__ = ["LOGIN_PATH", "login_url", "ui_principal"]

LOGIN_PATH: Final = "/ui/login"


def login_url(request: web.Request) -> str:
    return f"{LOGIN_PATH}?next={quote(request.path_qs, safe='/')}"


async def ui_principal(request: web.Request) -> Principal:
    """Who is asking, from the session cookie; without a live session, off to the login."""
    found = request.get(PRINCIPAL)
    if isinstance(found, Principal):
        return found
    principal = await session_principal(request)
    if principal is None:
        raise web.HTTPFound(login_url(request))
    request[PRINCIPAL] = principal
    return principal
