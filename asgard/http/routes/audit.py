"""The audit log: every write through the API and the dashboard, and how it went."""

from __future__ import annotations

from aiohttp import web

from asgard.db.audit import AuditFilter
from asgard.http.routing import RouteTable, json_response
from asgard.http.schemas import AuditList, AuditQuery
from asgard.http.state import principal, services

routes = RouteTable("audit")


@routes.get(
    "/audit",
    summary="The audit log: every write, successful or not (account admins and administrators)",
    query=AuditQuery,
    responses={200: AuditList},
)
async def list_audit(request: web.Request, query: AuditQuery) -> web.Response:
    """Newest first. Asgard's administrators read every entry; an account's admins read
    the entries of the accounts they administer; anyone else gets 403. No entry holds a
    request's body: env values, keys, passwords and input files are never recorded."""
    wanted = AuditFilter(
        user=query.user,
        cluster=query.cluster,
        resource=query.resource,
        action=query.action,
        since=query.since,
        until=query.until,
    )
    page = await services(request).audit.entries(
        principal(request),
        wanted,
        account_id=query.account_id,
        limit=query.limit,
        cursor=query.cursor,
    )
    return json_response(
        AuditList(entries=page.items, next_cursor=page.next_cursor, total=page.total)
    )
