"""The audit log's rules: who may read which entries, and how long they are kept.

Asgard's administrators read every entry; an account's admins read the entries of the
accounts they administer (entries of no account, such as users' and API keys' changes,
are for administrators alone); anyone else is refused.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Final

import structlog

from asgard.db.audit import AuditFilter, AuditStore
from asgard.db.engine import Database
from asgard.errors import Forbidden
from asgard.models import Role
from asgard.models.audit import AuditEntry
from asgard.models.base import utc_now
from asgard.services.audit_writer import AuditWriter
from asgard.services.pagination import Page, after_id, encode_cursor
from asgard.services.principal import Principal

__all__ = ["AuditService", "visible_accounts"]

log = structlog.get_logger(__name__)

SETTLE_S: Final = 1.0
"""How long a read waits for this process's entries still on their way to the database."""


def visible_accounts(principal: Principal, account_id: int | None) -> tuple[int, ...] | None:
    """The accounts whose entries ``principal`` may read (None: all), within ``account_id``
    when one is named; ``Forbidden`` when that is none."""
    if principal.user.is_admin:
        return None if account_id is None else (account_id,)
    administered = tuple(m.id for m in principal.memberships if m.role is Role.ADMIN)
    if account_id is not None:
        if account_id not in administered:
            raise Forbidden(
                f"only admins of account {account_id} and Asgard administrators read its audit log",
                field="account_id",
            )
        return (account_id,)
    if not administered:
        raise Forbidden("only account admins and Asgard administrators read the audit log")
    return administered


class AuditService:
    def __init__(self, db: Database, writer: AuditWriter, *, retention_days: int) -> None:
        self.db = db
        self.writer = writer
        self.retention = timedelta(days=retention_days)

    def record(self, entry: AuditEntry) -> None:
        """Never waits and never raises: see ``AuditWriter``."""
        self.writer.record(entry)

    async def entries(
        self,
        principal: Principal,
        wanted: AuditFilter,
        *,
        account_id: int | None,
        limit: int,
        cursor: str | None,
    ) -> Page[AuditEntry]:
        """Newest first (by the order they were written), ``limit`` at a time."""
        where = dataclasses.replace(wanted, accounts=visible_accounts(principal, account_id))
        before = after_id(cursor)
        await self.writer.settled(SETTLE_S)
        async with self.db.session() as session:
            rows, total = await AuditStore(session).page(where, before, limit)
        more = len(rows) > limit
        rows = rows[:limit]
        return Page(
            items=[entry for _, entry in rows],
            total=total,
            next_cursor=encode_cursor((rows[-1][0],)) if more else None,
        )

    async def prune(self) -> int:
        """Remove the entries older than the retention; the retention loop's step."""
        async with self.db.writing() as session:
            removed = await AuditStore(session).delete_before(utc_now() - self.retention)
        if removed:
            log.info("old audit entries removed", count=removed)
        return removed
