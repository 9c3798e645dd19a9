"""Logging in with an API key, logging out, and switching accounts."""

from __future__ import annotations

from aiohttp import web

from asgard.errors import Forbidden, Unauthenticated
from asgard.http.audit_note import about
from asgard.http.routing import read_form
from asgard.http.sessions import (
    check_csrf,
    clear_session_cookie,
    session_token,
    set_session_cookie,
)
from asgard.http.state import services
from asgard.services.auth import Credentials
from asgard.ui.rendering import render
from asgard.ui.session import ui_principal

__all__ = ["routes", "safe_next", "see_other"]

routes = web.RouteTableDef()


def safe_next(value: object, default: str = "/ui/") -> str:
    """Where to go after a form: only a dashboard path, so no link can send a user away."""
    if isinstance(value, str) and value.startswith("/ui") and not value.startswith("//"):
        return value
    return default


def see_other(location: str) -> web.Response:
    """After a form: the browser loads ``location`` with a GET (303)."""
    return web.Response(status=303, headers={"Location": location})


def _login_form(
    request: web.Request, next_url: str, error: str | None, status: int
) -> web.Response:
    context = {"next": next_url, "error": error}
    return render(request, "login.html", context, principal=None, status=status)


@routes.get("/ui/login")
async def login_page(request: web.Request) -> web.Response:
    return _login_form(request, safe_next(request.query.get("next")), None, 200)


@routes.post("/ui/login")
async def login(request: web.Request) -> web.StreamResponse:
    """A good key opens a session; a bad one is counted as the API counts them. A form
    another site submitted is refused (the browser says so in ``Sec-Fetch-Site``): it
    could log the reader in as someone else, whose pages they would then trust."""
    form = await read_form(request, services(request).settings.max_form_bytes)
    next_url = safe_next(form.get("next"))
    if request.headers.get("Sec-Fetch-Site") == "cross-site":
        message = "A login sent from another site is refused: log in on this page."
        return _login_form(request, next_url, message, 403)
    key = form.get("key")
    svc = services(request)
    try:
        user = await svc.auth.authenticate(f"Token {key if isinstance(key, str) else ''}")
    except Unauthenticated:
        wait_s = svc.throttle.failed(request.remote or "?")
        if wait_s is not None:
            response = _login_form(
                request, next_url, f"Too many wrong keys: try again in {wait_s} s.", 429
            )
            response.headers["Retry-After"] = str(wait_s)
            return response
        return _login_form(request, next_url, "That key is not valid.", 401)
    principal = await svc.auth.principal(Credentials(user.user, None), None)
    account_id = principal.account.id if principal.account else None
    about(request, user=user.user.id, account=account_id)
    token = await svc.sessions.create(user.user.id, account_id, user.key_id)
    response = see_other(next_url)
    set_session_cookie(request, response, token)
    return response


@routes.post("/ui/logout")
async def logout(request: web.Request) -> web.StreamResponse:
    await ui_principal(request)
    form = await read_form(request, services(request).settings.max_form_bytes)
    given = form.get("csrf_token")
    check_csrf(request, given if isinstance(given, str) else None)
    await services(request).sessions.revoke(session_token(request))
    response = see_other("/ui/login")
    clear_session_cookie(request, response)
    return response


@routes.post("/ui/account")
async def switch_account(request: web.Request) -> web.StreamResponse:
    """The session's account becomes another of the user's own, never one they lack."""
    principal = await ui_principal(request)
    form = await read_form(request, services(request).settings.max_form_bytes)
    given = form.get("csrf_token")
    check_csrf(request, given if isinstance(given, str) else None)
    try:
        wanted = int(str(form.get("account_id", "")))
    except ValueError:
        raise Forbidden("choose one of your accounts") from None
    await services(request).sessions.switch(principal, session_token(request), wanted)
    return see_other(safe_next(form.get("next")))
