"""Apps across clusters."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from asgard.backends.base import Orchestrator
from asgard.models import App, ClusterErrorInfo, Role, Task
from asgard.services.pagination import Page, paginate
from asgard.services.principal import Principal


@dataclass(frozen=True)
class AppsPage:
    page: Page[App]
    errors: list[ClusterErrorInfo]


class AppsService:
    def __init__(self, orchestrator: Orchestrator) -> None:
        self.orchestrator = orchestrator

    async def list(
        self,
        principal: Principal,
        *,
        clusters: Collection[str] | None,
        limit: int,
        cursor: str | None,
    ) -> AppsPage:
        account = principal.require(Role.VIEWER)
        listing = await self.orchestrator.list_apps(account, clusters)
        return AppsPage(
            page=paginate(listing.items, lambda a: (a.cluster, a.id), limit, cursor),
            errors=listing.errors,
        )

    async def get(self, principal: Principal, cluster: str, app_id: str) -> App:
        account = principal.require(Role.VIEWER)
        return await self.orchestrator.get_app(account, cluster, app_id)

    async def tasks(self, principal: Principal, cluster: str, app_id: str) -> list[Task]:
        account = principal.require(Role.VIEWER)
        return await self.orchestrator.list_tasks(account, cluster, app_id)
