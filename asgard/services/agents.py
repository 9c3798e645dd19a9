"""Agents across clusters: attribute filters, totals, pages."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from asgard.backends.base import Orchestrator
from asgard.models import Agent, App, Resources, Role, UsageStats
from asgard.services.pagination import ClusterPage, paginate
from asgard.services.principal import Principal


@dataclass(frozen=True)
class AgentsPage(ClusterPage[Agent]):
    stats: UsageStats
    """Over every agent that matched, not only this page: the fleet's load, not a slice's."""


def matches(agent: Agent, attrs: Mapping[str, str]) -> bool:
    return all(agent.attributes.get(k) == v for k, v in attrs.items())


class AgentsService:
    def __init__(self, orchestrator: Orchestrator) -> None:
        self.orchestrator = orchestrator

    async def list_agents(
        self,
        principal: Principal,
        *,
        clusters: Collection[str] | None,
        attrs: Mapping[str, str],
        limit: int,
        cursor: str | None,
    ) -> AgentsPage:
        account = principal.require(Role.VIEWER)
        listing = await self.orchestrator.list_agents(account, clusters)
        found = [a for a in listing.items if matches(a, attrs)] if attrs else listing.items
        used = Resources.total(a.used_resources for a in found)
        total = Resources.total(a.resources for a in found)
        return AgentsPage(
            page=paginate(found, lambda a: (a.cluster, a.id), limit, cursor),
            stats=UsageStats.of(used, total),
            errors=listing.errors,
            as_of=listing.as_of,
        )

    async def get(self, principal: Principal, cluster: str, agent_id: str) -> Agent:
        account = principal.require(Role.VIEWER)
        return await self.orchestrator.get_agent(account, cluster, agent_id)

    async def apps(self, principal: Principal, cluster: str, agent_id: str) -> list[App]:
        account = principal.require(Role.VIEWER)
        return await self.orchestrator.list_agent_apps(account, cluster, agent_id)
