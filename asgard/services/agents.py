"""Agents across clusters: attribute filters, totals, pages."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from asgard.backends.contract import AgentsBackend
from asgard.backends.orchestrator import Orchestrator
from asgard.models import Agent, App, Resources, Role, UsageSample, UsageStats
from asgard.services.kept_answers import KeptAnswers
from asgard.services.listing import ListRequest, listed, paged
from asgard.services.pagination import ClusterPage
from asgard.services.principal import Principal
from asgard.usage_history import UsageHistory


@dataclass(frozen=True)
class AgentsPage(ClusterPage[Agent]):
    stats: UsageStats
    """Over every agent that matched, not only this page: the fleet's load, not a slice's."""


def matches(agent: Agent, attrs: Mapping[str, str]) -> bool:
    return all(agent.attributes.get(k) == v for k, v in attrs.items())


class AgentsService:
    def __init__(self, orchestrator: Orchestrator, history: UsageHistory | None = None) -> None:
        self.orchestrator = orchestrator
        self.usage = history
        self.pages: KeptAnswers[AgentsPage] = KeptAnswers()

    def forget_cluster(self, cluster: str) -> None:
        """A cluster no longer served: the pages kept over its cache's versions go, and
        with them its agents, and its usage history."""
        self.pages.forget(lambda version: _names(version, cluster))
        if self.usage is not None:
            self.usage.forget_cluster(cluster)

    async def list_agents(
        self, principal: Principal, asked: ListRequest, attrs: Mapping[str, str]
    ) -> AgentsPage:
        account = principal.require(Role.VIEWER)
        listing = await listed(self.orchestrator, account, asked, AgentsBackend.list_agents)
        question = (account.namespace, account.owner, tuple(listing.as_of), *sorted(attrs.items()))
        key = (question, asked.limit, asked.cursor)
        kept = self.pages.get(key, listing.version)
        if kept is not None:
            return kept
        found = [a for a in listing.items if matches(a, attrs)] if attrs else listing.items
        used = Resources.total(a.used_resources for a in found)
        total = Resources.total(a.resources for a in found)
        page = paged(listing, asked, found)
        return self.pages.put(
            key,
            listing.version,
            AgentsPage(
                page=page.page,
                errors=page.errors,
                as_of=page.as_of,
                stats=UsageStats.of(used, total),
            ),
        )

    async def get(self, principal: Principal, cluster: str, agent_id: str) -> Agent:
        account = principal.require(Role.VIEWER)
        return await self.orchestrator.call(account, cluster, AgentsBackend.get_agent, agent_id)

    async def history(self, principal: Principal, cluster: str, agent_id: str) -> list[UsageSample]:
        """The samples this process took of the agent; none yet for an agent that exists
        but was not sampled (a new one, or a process just started). 404 for an agent that
        is neither sampled nor there now."""
        account = principal.require(Role.VIEWER)
        self.orchestrator.cluster(account, cluster)
        samples = None if self.usage is None else self.usage.of(account, cluster, agent_id)
        if samples is None:
            await self.get(principal, cluster, agent_id)
            return []
        return samples

    def measured(self, agents: Iterable[Agent]) -> dict[tuple[str, str], Resources]:
        """What the newest sample says each of these agents (listed for the caller's
        account already) has in use, by (cluster, agent id); an agent with no meter, or
        not sampled yet, is left out."""
        found: dict[tuple[str, str], Resources] = {}
        if self.usage is None:
            return found
        for agent in agents:
            latest = self.usage.latest(agent.cluster, agent.id)
            if latest is not None and latest.measured_resources is not None:
                found[(agent.cluster, agent.id)] = latest.measured_resources
        return found

    async def apps(self, principal: Principal, cluster: str, agent_id: str) -> list[App]:
        account = principal.require(Role.VIEWER)
        return await self.orchestrator.call(
            account, cluster, AgentsBackend.list_agent_apps, agent_id
        )


def _names(version: object, cluster: str) -> bool:
    """Whether a listing's version (``Listing.version``: (cluster, version) pairs) is over
    the cluster's cache."""
    return isinstance(version, tuple) and any(
        isinstance(pair, tuple) and pair[:1] == (cluster,) for pair in version
    )
