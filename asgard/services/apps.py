"""Apps across clusters: who may read and change them, and their pages."""

from __future__ import annotations

from collections.abc import Collection

from asgard.backends.contract import AppsBackend, LogStream
from asgard.backends.orchestrator import Listing, Orchestrator
from asgard.models import App, AppPatch, AppSpec, AppStats, Role, StatsWindow, Task
from asgard.services.pagination import ClusterPage, page_of
from asgard.services.principal import Principal


class AppsService:
    """Viewers read apps; operators deploy, change, restart and remove them."""

    def __init__(self, orchestrator: Orchestrator) -> None:
        self.orchestrator = orchestrator

    async def list_apps(
        self,
        principal: Principal,
        *,
        clusters: Collection[str] | None,
        limit: int,
        cursor: str | None,
        stale: bool = False,
    ) -> ClusterPage[App]:
        account = principal.require(Role.VIEWER)
        fan_out = self.orchestrator.fan_out_stale if stale else self.orchestrator.fan_out
        listing = await fan_out(account, clusters, AppsBackend.list_apps)
        return page_of(listing, limit, cursor)

    async def all_tasks(
        self, principal: Principal, *, clusters: Collection[str] | None, stale: bool = False
    ) -> Listing[Task]:
        """Every task of the account's apps on the chosen clusters, in one read of each
        cluster (from its cache): a page of apps with their tasks costs no call per app."""
        account = principal.require(Role.VIEWER)
        fan_out = self.orchestrator.fan_out_stale if stale else self.orchestrator.fan_out
        return await fan_out(account, clusters, AppsBackend.list_all_tasks)

    async def get(self, principal: Principal, cluster: str, app_id: str) -> App:
        account = principal.require(Role.VIEWER)
        return await self.orchestrator.call(account, cluster, AppsBackend.get_app, app_id)

    async def tasks(self, principal: Principal, cluster: str, app_id: str) -> list[Task]:
        account = principal.require(Role.VIEWER)
        return await self.orchestrator.call(account, cluster, AppsBackend.list_tasks, app_id)

    async def create(self, principal: Principal, spec: AppSpec) -> App:
        account = principal.require(Role.OPERATOR)
        return await self.orchestrator.call(account, spec.cluster, AppsBackend.create_app, spec)

    async def update(self, principal: Principal, cluster: str, app_id: str, patch: AppPatch) -> App:
        account = principal.require(Role.OPERATOR)
        return await self.orchestrator.call(account, cluster, AppsBackend.update_app, app_id, patch)

    async def delete(self, principal: Principal, cluster: str, app_id: str) -> None:
        account = principal.require(Role.OPERATOR)
        await self.orchestrator.call(account, cluster, AppsBackend.delete_app, app_id)

    async def restart(self, principal: Principal, cluster: str, app_id: str) -> App:
        account = principal.require(Role.OPERATOR)
        return await self.orchestrator.call(account, cluster, AppsBackend.restart_app, app_id)

    async def stats(
        self, principal: Principal, cluster: str, app_id: str, window: StatsWindow
    ) -> AppStats:
        account = principal.require(Role.VIEWER)
        return await self.orchestrator.call(account, cluster, AppsBackend.app_stats, app_id, window)

    async def logs(
        self, principal: Principal, cluster: str, app_id: str, *, tail: int, follow: bool
    ) -> LogStream:
        account = principal.require(Role.VIEWER)
        return await self.orchestrator.call(
            account, cluster, AppsBackend.app_logs, app_id, tail=tail, follow=follow
        )
