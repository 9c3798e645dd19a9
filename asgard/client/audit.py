"""``/audit``: every write, who made it and how it ended."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

from asgard.client.pagination import each
from asgard.client.transport import Transport
from asgard.http.schemas import AuditList
from asgard.models.audit import AuditEntry

__all__ = ["AuditClient", "AuditFilter"]


class AuditFilter:
    """The filters of ``/audit``; each left None is not applied."""

    def __init__(
        self,
        *,
        account_id: int | None = None,
        user: int | None = None,
        cluster: str | None = None,
        resource: str | None = None,
        action: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> None:
        self.params: dict[str, str | int | None] = {
            "account_id": account_id,
            "user": user,
            "cluster": cluster,
            "resource": resource,
            "action": action,
            "since": since.isoformat() if since else None,
            "until": until.isoformat() if until else None,
        }


class AuditClient:
    def __init__(self, transport: Transport) -> None:
        self._t = transport

    async def page(
        self,
        where: AuditFilter | None = None,
        *,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> AuditList:
        params = {**(where or AuditFilter()).params, "limit": limit, "cursor": cursor}
        return await self._t.model(AuditList, "GET", "/audit", params=params)

    def all(self, where: AuditFilter | None = None) -> AsyncIterator[AuditEntry]:
        async def fetch(cursor: str | None) -> AuditList:
            return await self.page(where, cursor=cursor)

        return each(fetch, lambda page: page.entries)
