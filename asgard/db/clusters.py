"""The clusters registered through the API, and the revision that says they changed.

Every change bumps ``cluster_revision`` in its own transaction, so a process polling the
registry (on SQLite, where no notice is heard) reads one small row to know whether it
must read the clusters again. Secrets arrive here encrypted and leave encrypted: this
store never sees a key.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from asgard.db.stores import flush_or_conflict
from asgard.db.tables import ClusterRevisionRow, ClusterRow
from asgard.models import StoredCluster
from asgard.models.base import utc_now

__all__ = ["ClusterStore"]


def _stored(row: ClusterRow) -> StoredCluster:
    return StoredCluster(
        name=row.name,
        kind=row.kind,
        settings=dict(row.settings),
        secrets=row.secrets,
        secret_names=[n for n in row.secret_names.split(",") if n],
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class ClusterStore:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def revision(self) -> int:
        found = await self.session.scalar(
            select(ClusterRevisionRow.revision).where(ClusterRevisionRow.id == 1)
        )
        return int(found or 0)

    async def _bump(self) -> None:
        await self.session.execute(
            update(ClusterRevisionRow)
            .where(ClusterRevisionRow.id == 1)
            .values(revision=ClusterRevisionRow.revision + 1)
        )

    async def all(self) -> list[StoredCluster]:
        rows = await self.session.scalars(select(ClusterRow).order_by(ClusterRow.name))
        return [_stored(r) for r in rows]

    async def get(self, name: str) -> StoredCluster | None:
        row = await self.session.get(ClusterRow, name)
        return _stored(row) if row is not None else None

    async def add(
        self,
        name: str,
        kind: str,
        settings: dict[str, Any],
        secrets: str | None,
        secret_names: list[str],
    ) -> StoredCluster:
        now = utc_now()
        row = ClusterRow(
            name=name,
            kind=kind,
            settings=settings,
            secrets=secrets,
            secret_names=",".join(secret_names),
            created_at=now,
            updated_at=now,
        )
        self.session.add(row)
        await flush_or_conflict(
            self.session, f"a cluster named '{name}' is registered already", "name"
        )
        await self._bump()
        return _stored(row)

    async def replace(
        self,
        name: str,
        settings: dict[str, Any],
        secrets: str | None,
        secret_names: list[str],
        *,
        at: datetime | None = None,
    ) -> StoredCluster | None:
        row = await self.session.get(ClusterRow, name, with_for_update=True)
        if row is None:
            return None
        row.settings = settings
        row.secrets = secrets
        row.secret_names = ",".join(secret_names)
        row.updated_at = at or utc_now()
        await self.session.flush()
        await self._bump()
        return _stored(row)

    async def reencrypt(self, name: str, secrets: str) -> None:
        """The same secrets under another key: the entry does not change, so neither does
        its ``updated_at``, and no process needs to rebuild the cluster."""
        await self.session.execute(
            update(ClusterRow).where(ClusterRow.name == name).values(secrets=secrets)
        )

    async def delete(self, name: str) -> bool:
        row = await self.session.get(ClusterRow, name)
        if row is None:
            return False
        await self.session.delete(row)
        await self.session.flush()
        await self._bump()
        return True
