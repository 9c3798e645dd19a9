"""Cluster health as an account sees it."""

from __future__ import annotations

from asgard.backends.orchestrator import Orchestrator
from asgard.models import ClusterStatus
from asgard.services.principal import Principal


class ClustersService:
    def __init__(self, orchestrator: Orchestrator) -> None:
        self.orchestrator = orchestrator

    async def statuses(self, principal: Principal, *, live: bool = False) -> list[ClusterStatus]:
        """The clusters the request's account may use; every cluster for an administrator
        acting without an account."""
        if principal.account is None:
            principal.require_admin()
        return await self.orchestrator.statuses(principal.account, live=live)
