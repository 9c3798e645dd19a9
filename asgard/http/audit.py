"""The audit trail: one middleware records every write through the API and the dashboard.

It sees each write's final status, whatever answered it (the route, the error mapping,
authentication, the dashboard's failure pages), and names what was written from the
route and its URL. What the URL does not say (the id a create gave, the cluster of a
body) the route adds to the request's ``AuditNote`` with ``about`` (``audit_note.py``).
Nothing of a body is kept, so no env value, key, password or input file reaches the log.

The entry is handed to the ``AuditService`` once the answer is known, without waiting
for the database: recording never fails a write nor makes it slower.
"""

from __future__ import annotations

import asyncio
from typing import Final

import structlog
from aiohttp import web
from aiohttp.typedefs import Handler

from asgard.http.audit_note import AUDIT, AuditNote
from asgard.http.middlewares import CLIENT_CLOSED_REQUEST
from asgard.http.routing import operation_of
from asgard.http.state import PRINCIPAL, REQUEST_ID, SERVICES
from asgard.models.audit import AuditEntry, AuditOutcome, outcome_of
from asgard.models.base import utc_now
from asgard.services.principal import Principal

__all__ = ["WRITES", "audit_trail", "audited_as"]

log = structlog.get_logger(__name__)

SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})

WRITES: Final[dict[str, tuple[str, str]]] = {
    "create_app": ("app", "create"),
    "patch_app": ("app", "update"),
    "delete_app": ("app", "delete"),
    "restart_app": ("app", "restart"),
    "scale_app": ("app", "scale"),
    "create_job": ("job", "create"),
    "delete_job": ("job", "delete"),
    "create_workflow": ("workflow", "create"),
    "delete_workflow": ("workflow", "delete"),
    "create_scheduled_job": ("scheduled_job", "create"),
    "put_scheduled_job": ("scheduled_job", "update"),
    "delete_scheduled_job": ("scheduled_job", "delete"),
    "enable_scheduled_job": ("scheduled_job", "enable"),
    "disable_scheduled_job": ("scheduled_job", "disable"),
    "create_user": ("user", "create"),
    "patch_user": ("user", "update"),
    "delete_user": ("user", "delete"),
    "create_account": ("account", "create"),
    "patch_account": ("account", "update"),
    "delete_account": ("account", "delete"),
    "put_member": ("membership", "put"),
    "delete_member": ("membership", "delete"),
    "create_token": ("api_key", "create"),
    "delete_token": ("api_key", "delete"),
    "create_cluster": ("cluster", "create"),
    "patch_cluster": ("cluster", "update"),
    "delete_cluster": ("cluster", "delete"),
    "login": ("session", "login"),
    "logout": ("session", "logout"),
    "switch_account": ("session", "switch_account"),
}
"""Writes by the name of their handler (the OpenAPI operation id, or the dashboard's). A
write missing here is still recorded, named from its handler: ``rollback_app`` is the
action ``rollback`` on the resource ``app``."""

IN_AN_ACCOUNT: Final = frozenset({"app", "job", "workflow", "scheduled_job", "session"})
"""Resources that live in the request's account; the others name their account in the URL
(``/accounts/{account_id}``) or have none (users, API keys)."""

DB_INT: Final = range(1, 2**31)
"""Ids the tables' integer columns can hold: anything else in a URL names no account."""


def audited_as(request: web.Request) -> tuple[str, str] | None:
    """(resource, action) of a write, or None for what is not audited: reads, unknown
    routes, static files, and the routes a running job uses with its own token. A write
    that is not an API operation (a dashboard form) is named by its handler."""
    if request.method in SAFE_METHODS or request.match_info.route.resource is None:
        return None
    operation = operation_of(request)
    if operation is not None:
        if operation.auth == "job":
            return None
        name = operation.handler.__name__
    elif isinstance(request.match_info.route.resource, web.StaticResource):
        return None
    else:
        name = getattr(request.match_info.handler, "__name__", "")
    if name in WRITES:
        return WRITES[name]
    action, _, resource = name.partition("_")
    return (resource or "unknown", action or "write")


def _text(value: str | None, size: int) -> str | None:
    """What a column can hold: at most ``size`` characters, and no NUL (PostgreSQL refuses it
    in text; a URL may carry one)."""
    return value.replace("\x00", "")[:size] if value else None


def _account_in_url(request: web.Request) -> int | None:
    raw = request.match_info.get("account_id", "")
    return int(raw) if raw.isdigit() and int(raw) in DB_INT else None


def _entry(
    request: web.Request, what: tuple[str, str], status: int, outcome: AuditOutcome
) -> AuditEntry:
    resource, action = what
    note = request.get(AUDIT) or AuditNote()
    found = request.get(PRINCIPAL)
    who = found if isinstance(found, Principal) else None
    params = [value for key, value in request.match_info.items() if key != "cluster"]
    account = note.account or _account_in_url(request)
    if account is None and who is not None and who.account is not None:
        account = who.account.id if resource in IN_AN_ACCOUNT else None
    cluster = note.cluster or request.match_info.get("cluster")
    resource_id = note.id or (params[-1] if params else None)
    return AuditEntry(
        at=utc_now(),
        user=who.user.id if who is not None else note.user,
        account=account,
        cluster=_text(cluster, 63),
        resource=_text(resource, 40) or "unknown",
        id=_text(resource_id, 300),
        action=_text(action, 40) or "write",
        request_id=request.get(REQUEST_ID, "")[:64],
        status=status,
        outcome=outcome,
    )


def _record(request: web.Request, entry: AuditEntry) -> None:
    services = request.app.get(SERVICES)
    if services is None:  # still starting: nothing can have been written
        return
    services.audit.record(entry)


@web.middleware
async def audit_trail(request: web.Request, handler: Handler) -> web.StreamResponse:
    what = audited_as(request)
    if what is None:
        return await handler(request)
    request[AUDIT] = AuditNote()
    status, outcome = 500, AuditOutcome.FAILED
    try:
        response = await handler(request)
        status, outcome = response.status, outcome_of(response.status)
        return response
    except web.HTTPException as exc:
        # Only redirects come this far (the error middleware answers the others): the
        # dashboard sending a browser without a session to its login page.
        status, outcome = exc.status, AuditOutcome.REFUSED
        raise
    except (asyncio.CancelledError, ConnectionResetError):
        status, outcome = CLIENT_CLOSED_REQUEST, AuditOutcome.ABANDONED
        raise
    finally:
        try:
            _record(request, _entry(request, what, status, outcome))
        except Exception as exc:  # recording must never be why a write failed
            log.warning("audit entry lost", error=type(exc).__name__, resource=what[0])
