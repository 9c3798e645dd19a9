"""The audit log in the database: entries added in batches, read newest first, removed by age."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from asgard.db.tables import AuditRow
from asgard.models.audit import AuditEntry, AuditOutcome

__all__ = ["AuditFilter", "AuditStore"]


@dataclass(frozen=True)
class AuditFilter:
    """What a reader asked for, and (``accounts``) what it may see: None is every entry,
    an empty tuple none."""

    accounts: tuple[int, ...] | None = None
    user: int | None = None
    cluster: str | None = None
    resource: str | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        if self.accounts is not None:
            found.append(AuditRow.account_id.in_(self.accounts))
        for column, value in (
            (AuditRow.user_id, self.user),
            (AuditRow.cluster, self.cluster),
            (AuditRow.resource, self.resource),
            (AuditRow.action, self.action),
        ):
            if value is not None:
                found.append(column == value)
        if self.since is not None:
            found.append(AuditRow.at >= self.since)
        if self.until is not None:
            found.append(AuditRow.at < self.until)
        return found


def entry_model(row: AuditRow) -> AuditEntry:
    return AuditEntry(
        at=row.at,
        user=row.user_id,
        account=row.account_id,
        cluster=row.cluster,
        resource=row.resource,
        id=row.resource_id,
        action=row.action,
        request_id=row.request_id,
        status=row.status,
        outcome=AuditOutcome(row.outcome),
    )


def _values(entry: AuditEntry) -> dict[str, Any]:
    return {
        "at": entry.at,
        "user_id": entry.user,
        "account_id": entry.account,
        "cluster": entry.cluster,
        "resource": entry.resource,
        "resource_id": entry.id,
        "action": entry.action,
        "request_id": entry.request_id,
        "status": entry.status,
        "outcome": entry.outcome.value,
    }


class AuditStore:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, entries: Sequence[AuditEntry]) -> None:
        """One INSERT for the whole batch."""
        if entries:
            await self.session.execute(insert(AuditRow), [_values(e) for e in entries])

    async def page(
        self, where: AuditFilter, before: int | None, limit: int
    ) -> tuple[list[tuple[int, AuditEntry]], int]:
        """Up to ``limit + 1`` entries, newest (highest id) first, older than the entry
        ``before``; each with its id, the cursor of the next page. And how many match."""
        conditions = where.conditions()
        total = await self.session.scalar(select(func.count(AuditRow.id)).where(*conditions))
        query = select(AuditRow).where(*conditions)
        if before is not None:
            query = query.where(AuditRow.id < before)
        rows = await self.session.scalars(query.order_by(AuditRow.id.desc()).limit(limit + 1))
        return [(row.id, entry_model(row)) for row in rows], int(total or 0)

    async def delete_before(self, cutoff: datetime) -> int:
        """Remove entries older than ``cutoff``; how many went."""
        result = await self.session.execute(delete(AuditRow).where(AuditRow.at < cutoff))
        return int(getattr(result, "rowcount", 0) or 0)
