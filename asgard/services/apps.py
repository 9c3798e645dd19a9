"""Apps across clusters."""

from __future__ import annotations

from collections.abc import Collection

from asgard.backends.base import LogStream, Orchestrator
from asgard.models import (
    App,
    AppPatch,
    AppSpec,
    AppStats,
    Role,
    StatsWindow,
    Task,
)
from asgard.services.pagination import ClusterPage, paginate
from asgard.services.principal import Principal


class AppsService:
    def __init__(self, orchestrator: Orchestrator) -> None:
        self.orchestrator = orchestrator

    async def list_apps(
        self,
        principal: Principal,
        *,
        clusters: Collection[str] | None,
        limit: int,
        cursor: str | None,
    ) -> ClusterPage[App]:
        account = principal.require(Role.VIEWER)
        listing = await self.orchestrator.list_apps(account, clusters)
        return ClusterPage(
            page=paginate(listing.items, lambda a: (a.cluster, a.id), limit, cursor),
            errors=listing.errors,
            as_of=listing.as_of,
        )

    async def get(self, principal: Principal, cluster: str, app_id: str) -> App:
        account = principal.require(Role.VIEWER)
        return await self.orchestrator.get_app(account, cluster, app_id)

    async def tasks(self, principal: Principal, cluster: str, app_id: str) -> list[Task]:
        account = principal.require(Role.VIEWER)
        return await self.orchestrator.list_tasks(account, cluster, app_id)

    async def create(self, principal: Principal, spec: AppSpec) -> App:
        account = principal.require(Role.OPERATOR)
        return await self.orchestrator.create_app(account, spec)

    async def update(self, principal: Principal, cluster: str, app_id: str, patch: AppPatch) -> App:
        account = principal.require(Role.OPERATOR)
        return await self.orchestrator.update_app(account, cluster, app_id, patch)

    async def delete(self, principal: Principal, cluster: str, app_id: str) -> None:
        account = principal.require(Role.OPERATOR)
        await self.orchestrator.delete_app(account, cluster, app_id)

    async def restart(self, principal: Principal, cluster: str, app_id: str) -> App:
        account = principal.require(Role.OPERATOR)
        return await self.orchestrator.restart_app(account, cluster, app_id)

    async def stats(
        self, principal: Principal, cluster: str, app_id: str, window: StatsWindow
    ) -> AppStats:
        account = principal.require(Role.VIEWER)
        return await self.orchestrator.app_stats(account, cluster, app_id, window)

    async def logs(
        self, principal: Principal, cluster: str, app_id: str, *, tail: int, follow: bool
    ) -> LogStream:
        account = principal.require(Role.VIEWER)
        return await self.orchestrator.app_logs(account, cluster, app_id, tail=tail, follow=follow)
