"""Agents (the machines) and clusters."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

from asgard.client.pagination import each
from asgard.client.transport import Transport, path_of
from asgard.http.schemas import (
    AgentApps,
    AgentBody,
    AgentHistory,
    AgentList,
    ClusterEntryAnswer,
    ClusterList,
)
from asgard.models import Agent, App, ClusterEntry, ClusterStatus

__all__ = ["AgentsClient", "ClustersClient"]


class AgentsClient:
    def __init__(self, transport: Transport) -> None:
        self._t = transport

    async def page(
        self,
        *,
        cluster: str | list[str] | None = None,
        attrs: Mapping[str, str] | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        stale: bool = False,
    ) -> AgentList:
        """With ``attrs``, only the agents whose attributes match every pair."""
        params = {
            **(attrs or {}),
            "cluster": cluster,
            "limit": limit,
            "cursor": cursor,
            "stale": stale or None,
        }
        path = "/agents/with-attrs" if attrs else "/agents"
        return await self._t.model(AgentList, "GET", path, params=params)

    def all(
        self, *, cluster: str | list[str] | None = None, attrs: Mapping[str, str] | None = None
    ) -> AsyncIterator[Agent]:
        async def fetch(cursor: str | None) -> AgentList:
            return await self.page(cluster=cluster, attrs=attrs, cursor=cursor)

        return each(fetch, lambda page: page.agents)

    async def get(self, cluster: str, agent_id: str) -> Agent:
        path = path_of("clusters", cluster, "agents", agent_id)
        return (await self._t.model(AgentBody, "GET", path)).agent

    async def apps(self, cluster: str, agent_id: str) -> list[App]:
        path = path_of("clusters", cluster, "agents", agent_id, "apps")
        return (await self._t.model(AgentApps, "GET", path)).apps

    async def history(self, cluster: str, agent_id: str) -> AgentHistory:
        path = path_of("clusters", cluster, "agents", agent_id, "history")
        return await self._t.model(AgentHistory, "GET", path)


class ClustersClient:
    def __init__(self, transport: Transport) -> None:
        self._t = transport

    async def statuses(self, *, probe: bool = False) -> list[ClusterStatus]:
        """From what the server knows; ``probe`` asks each cluster now."""
        params = {"probe": probe or None}
        return (await self._t.model(ClusterList, "GET", "/clusters", params=params)).clusters

    async def entry(self, name: str) -> ClusterEntry:
        """A cluster's entry, secrets shown as ``"set"`` (administrators)."""
        found = await self._t.model(ClusterEntryAnswer, "GET", path_of("clusters", name))
        return found.cluster

    async def register(self, entry: Mapping[str, Any], *, check: bool = True) -> ClusterEntry:
        """Register a cluster (administrators); ``check=False`` saves it unchecked."""
        params = {"check": None if check else "false"}
        found = await self._t.model(
            ClusterEntryAnswer, "POST", "/clusters", params=params, body=entry
        )
        return found.cluster

    async def change(self, name: str, patch: Mapping[str, Any]) -> ClusterEntry:
        """Change a registered cluster's entry: the fields given, null for a default."""
        path = path_of("clusters", name)
        return (await self._t.model(ClusterEntryAnswer, "PATCH", path, body=patch)).cluster

    async def remove(self, name: str) -> None:
        await self._t.call("DELETE", path_of("clusters", name))
