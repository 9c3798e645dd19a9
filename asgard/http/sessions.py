"""A dashboard session over HTTP: the HttpOnly cookie that carries its token, and the CSRF
token every write made with that cookie carries (the HMAC of the session token under the
server's signing key, so another site can neither read nor forge it).

The API reads the cookie too (``/events`` for the dashboard's pages, its scripts' writes),
so this is HTTP's and not the dashboard's; the sessions themselves are the
``DashboardSessions`` service's.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Final

from aiohttp import web

from asgard.errors import Forbidden, Unauthenticated
from asgard.http.security_headers import is_https
from asgard.http.state import CREDENTIALS, services
from asgard.services.principal import Principal

__all__ = [
    "COOKIE",
    "CSRF_HEADER",
    "check_csrf",
    "clear_session_cookie",
    "cookie_principal",
    "csrf_token",
    "session_principal",
    "session_token",
    "set_session_cookie",
]

COOKIE: Final = "asgard_session"
CSRF_HEADER: Final = "X-CSRF-Token"
SESSION_TOKEN = web.RequestKey("session_token", str)


def csrf_for(signing_key: str, token: str) -> str:
    return hmac.new(signing_key.encode(), token.encode(), hashlib.sha256).hexdigest()


async def session_principal(request: web.Request) -> Principal | None:
    """Who the request's session cookie is; None without a live session. The request
    then carries the session's credentials (what its streams are held by) and token."""
    token = request.cookies.get(COOKIE, "")
    if not token:
        return None
    opened = await services(request).sessions.open(token)
    if opened is None:
        return None
    request[CREDENTIALS] = opened.credentials
    request[SESSION_TOKEN] = token
    return opened.principal


async def cookie_principal(request: web.Request) -> Principal:
    """For the JSON API: the principal of the session cookie, or 401."""
    principal = await session_principal(request)
    if principal is None:
        raise Unauthenticated("the session has expired or was ended: log in again")
    return principal


def session_token(request: web.Request) -> str:
    return request.get(SESSION_TOKEN) or request.cookies.get(COOKIE, "")


def csrf_token(request: web.Request) -> str:
    """The token every write of this session must carry (a form field or ``X-CSRF-Token``)."""
    token = session_token(request)
    return csrf_for(services(request).auth.signing_key, token) if token else ""


def check_csrf(request: web.Request, given: str | None) -> None:
    expected = csrf_token(request)
    if not given or not expected or not hmac.compare_digest(given, expected):
        raise Forbidden("a write made with the session cookie needs its CSRF token")


def set_session_cookie(request: web.Request, response: web.StreamResponse, token: str) -> None:
    response.set_cookie(
        COOKIE,
        token,
        max_age=services(request).settings.session_ttl_s,
        path="/",
        httponly=True,
        samesite="Strict",
        secure=is_https(request),
    )


def clear_session_cookie(request: web.Request, response: web.StreamResponse) -> None:
    response.del_cookie(COOKIE, path="/", samesite="Strict", secure=is_https(request))
