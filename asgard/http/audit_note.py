"""What a route tells the audit trail that its URL does not say: the id a create gave,
the cluster its body named, the user a login found. Kept apart from the trail itself so
the dashboard's routes can fill it without importing the middleware."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

__all__ = ["AUDIT", "AuditNote", "about"]


@dataclass
class AuditNote:
    """What a route tells the audit trail that its URL does not say."""

    user: int | None = None
    account: int | None = None
    cluster: str | None = None
    id: str | None = None


AUDIT = web.RequestKey("audit_note", AuditNote)


def about(
    request: web.Request,
    *,
    user: int | None = None,
    account: int | None = None,
    cluster: str | None = None,
    id: str | int | None = None,
) -> None:
    """Add what is known to the request's entry; nothing on a request that is not audited."""
    note = request.get(AUDIT)
    if note is None:
        return
    note.user = user if user is not None else note.user
    note.account = account if account is not None else note.account
    note.cluster = cluster if cluster is not None else note.cluster
    note.id = str(id) if id is not None else note.id
