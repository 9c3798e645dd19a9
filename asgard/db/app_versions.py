"""Asgard's record of the specs it deployed: one row per deploy, newest kept."""

from __future__ import annotations

from typing import Any, Final

from pydantic import ValidationError
from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from asgard.db.tables import AppVersionRow
from asgard.models import AppSpec, AppVersion
from asgard.models.base import utc_now
from asgard.models.version import spec_hash

__all__ = ["KEPT_PER_APP", "AppVersionStore"]

KEPT_PER_APP: Final = 100
"""Deploys remembered per app; older ones are forgotten as new ones are recorded."""


def _spec(data: dict[str, Any]) -> AppSpec:
    """A recorded spec; as it was kept should a later Asgard validate it otherwise."""
    try:
        return AppSpec.model_validate(data)
    except ValidationError:
        return AppSpec.model_construct(**data)


def _version(row: AppVersionRow) -> AppVersion:
    return AppVersion(
        id=row.version,
        spec=_spec(row.spec),
        created_at=row.created_at,
        by=row.deployed_by,
    )


class AppVersionStore:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record(
        self, cluster: str, namespace: str, app_id: str, spec: AppSpec, by: str | None
    ) -> AppVersion:
        row = AppVersionRow(
            cluster=cluster,
            namespace=namespace,
            app_id=app_id,
            version=spec_hash(spec),
            spec=spec.model_dump(mode="json"),
            created_at=utc_now(),
            deployed_by=by,
        )
        self.session.add(row)
        await self.session.flush()
        beyond = (
            select(AppVersionRow.id)
            .where(*self._of(cluster, namespace, app_id))
            .order_by(AppVersionRow.id.desc())
            .offset(KEPT_PER_APP)
        )
        stale = list(await self.session.scalars(beyond))
        if stale:
            await self.session.execute(delete(AppVersionRow).where(AppVersionRow.id.in_(stale)))
        return _version(row)

    @staticmethod
    def _of(cluster: str, namespace: str, app_id: str) -> tuple[ColumnElement[bool], ...]:
        return (
            AppVersionRow.cluster == cluster,
            AppVersionRow.namespace == namespace,
            AppVersionRow.app_id == app_id,
        )

    async def deploys(self, cluster: str, namespace: str, app_id: str) -> list[AppVersion]:
        """Every recorded deploy of the app, newest first (the same spec may come twice)."""
        rows = await self.session.scalars(
            select(AppVersionRow)
            .where(*self._of(cluster, namespace, app_id))
            .order_by(AppVersionRow.id.desc())
        )
        return [_version(row) for row in rows]

    async def forget(self, cluster: str, namespace: str, app_id: str) -> None:
        """The app is gone: an app made later with its id starts a history of its own."""
        await self.session.execute(
            delete(AppVersionRow).where(*self._of(cluster, namespace, app_id))
        )
