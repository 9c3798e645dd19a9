"""Request context (id, structured logs, metrics) and authentication."""

from __future__ import annotations

import asyncio
import re
import time
import uuid

import structlog
from aiohttp import web
from aiohttp.typedefs import Handler

from asgard.errors import TooManyAttempts, Unauthenticated
from asgard.http.audit_note import about
from asgard.http.routing import operation_of
from asgard.http.sessions import COOKIE, CSRF_HEADER, check_csrf, cookie_principal
from asgard.http.state import CREDENTIALS, JOB_GRANT, METRICS, PRINCIPAL, REQUEST_ID, services

log = structlog.get_logger("asgard.http")

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
CLIENT_CLOSED_REQUEST = 499
"""What the metrics and logs say of a request whose client left before the answer was done."""


def route_name(request: web.Request) -> str:
    """The route template, so metrics have one series per route and not one per app id."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


@web.middleware
async def request_context(request: web.Request, handler: Handler) -> web.StreamResponse:
    given = request.headers.get("X-Request-Id", "")
    request_id = given if _REQUEST_ID_RE.match(given) else uuid.uuid4().hex
    request[REQUEST_ID] = request_id
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(
        request_id=request_id, method=request.method, path=request.path
    )
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except (asyncio.CancelledError, ConnectionResetError):
        status = CLIENT_CLOSED_REQUEST
        raise
    finally:
        elapsed = time.perf_counter() - started
        route = route_name(request)
        request.app[METRICS].observe(route, request.method, status, elapsed)
        log.info("request", route=route, status=status, duration_ms=round(elapsed * 1000, 2))


async def _as_job(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A job's own token: valid only for the routes of that one job."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("a job token is required: 'Authorization: Bearer <job token>'")
    grant = services(request).job_tokens.verify(token.strip())
    request[JOB_GRANT] = grant
    structlog.contextvars.bind_contextvars(job=grant.job_id, cluster=grant.cluster)
    return await handler(request)


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def _as_session(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The dashboard's cookie, for its browser's reads (``/events``) and its scripts'
    writes; a write must carry the session's CSRF token, which another site cannot know."""
    principal = await cookie_principal(request)
    about(request, user=principal.user.id)
    if request.method not in SAFE_METHODS:
        check_csrf(request, request.headers.get(CSRF_HEADER))
    request[PRINCIPAL] = principal
    structlog.contextvars.bind_contextvars(
        user_id=principal.user.id, account_id=principal.account.id if principal.account else None
    )
    return await handler(request)


SAFETY_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
"""A browser must not guess a type other than the one given (a log served as text is never
run as a page), nor tell other sites which of Asgard's URLs a user came from."""


async def add_request_id(request: web.Request, response: web.StreamResponse) -> None:
    """On every response, streams included: the id to quote when something went wrong,
    and the headers that keep browsers safe."""
    if REQUEST_ID in request:
        response.headers["X-Request-Id"] = request[REQUEST_ID]
    response.headers.update(SAFETY_HEADERS)


def _account_param(request: web.Request) -> str | None:
    """``?account_id`` chooses the request's account, except on a route whose query declares
    it (``/audit``): there it is the route's own filter, which an administrator may set to
    any account, member or not."""
    operation = operation_of(request)
    query = operation.query if operation is not None else None
    if query is not None and "account_id" in query.model_fields:
        return None
    return request.query.get("account_id")


@web.middleware
async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
    operation = operation_of(request)
    if operation is None or operation.auth == "public":
        return await handler(request)
    if operation.auth == "job":
        return await _as_job(request, handler)
    auth = services(request).auth
    given = request.headers.get("Authorization")
    if given is None and COOKIE in request.cookies:
        return await _as_session(request, handler)
    try:
        credentials = await auth.authenticate(given)
    except Unauthenticated:
        wait_s = services(request).throttle.failed(request.remote or "?") if given else None
        if wait_s is not None:
            raise TooManyAttempts(
                f"too many bad credentials from this address: try again in {wait_s} s",
                retry_after_s=wait_s,
            ) from None
        raise
    about(request, user=credentials.user.id)  # known even if the account is refused below
    principal = await auth.principal(credentials, _account_param(request))
    request[PRINCIPAL] = principal
    request[CREDENTIALS] = credentials
    structlog.contextvars.bind_contextvars(
        user_id=principal.user.id, account_id=principal.account.id if principal.account else None
    )
    return await handler(request)
