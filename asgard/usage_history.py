"""Each agent's used and total resources over the last hour: small graphs need no Prometheus.

Every ``interval_s`` the sampler reads every cluster's agents (from the cache where the
cluster has one, so a sample costs the cluster nothing), then their meters (what is in
use, beside what is allocated: ``AgentsBackend.measure_agents``, which does cost a sample
of container statistics or the metrics API), and keeps one sample per agent in a window
of ``window_s``. It is kept in memory, per process: nothing is written to
the database every 15 s for each of thousands of agents, and a process that starts
has no history yet, which a graph shows as a gap. A cluster that does not answer
gets no sample: a gap, not a made-up zero.
"""

from __future__ import annotations

import asyncio
import math
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog

from asgard.backends.cluster import Cluster
from asgard.backends.contract import AgentsBackend
from asgard.backends.orchestrator import Orchestrator
from asgard.errors import AsgardError
from asgard.loops import PeriodicLoop
from asgard.models import Account, Agent, Resources, UsageSample
from asgard.models.base import utc_now

__all__ = ["UsageHistory"]

log = structlog.get_logger(__name__)

SAMPLER = Account(id=0, name="usage-history", namespace="asgard-usage-history", owner=None)
"""Reads every agent (no owner); who may see an agent's history is decided when it is read."""


@dataclass
class AgentSamples:
    owner: str | None
    samples: deque[UsageSample] = field(default_factory=deque)


class UsageHistory:
    def __init__(self, orchestrator: Orchestrator, *, interval_s: float, window_s: float) -> None:
        self.orchestrator = orchestrator
        self.interval_s = interval_s
        self.window_s = window_s
        self.limit = max(1, math.ceil(window_s / interval_s))
        """The most samples an agent keeps: one window's worth."""
        self._agents: dict[tuple[str, str], AgentSamples] = {}
        self.rounds = 0
        """How many times every cluster was sampled: what was summed of the newest samples
        is current while this has not moved."""
        self.loop = PeriodicLoop("usage-history", self.sample, every_s=interval_s)

    # reading

    def of(self, account: Account, cluster: str, agent_id: str) -> list[UsageSample] | None:
        """The agent's samples within the window, oldest first; None when this process has
        none of it, or the account may not see it."""
        kept = self._agents.get((cluster, agent_id))
        if kept is None or not account.may_use(cluster):
            return None
        if account.owner is not None and kept.owner != account.owner:
            return None
        since = utc_now() - timedelta(seconds=self.window_s)
        return [s for s in kept.samples if s.at >= since]

    # sampling

    def latest(self, cluster: str, agent_id: str) -> UsageSample | None:
        """The newest sample of the agent within the window, whoever asks (the caller has
        listed the agent for its account already)."""
        kept = self._agents.get((cluster, agent_id))
        if kept is None or not kept.samples:
            return None
        newest = kept.samples[-1]
        return newest if newest.at >= utc_now() - timedelta(seconds=self.window_s) else None

    def record(
        self,
        cluster: str,
        agents: Iterable[Agent],
        at: datetime,
        measured: Mapping[str, Resources] | None = None,
    ) -> None:
        measured = measured or {}
        for agent in agents:
            kept = self._agents.get((cluster, agent.id))
            if kept is None:
                kept = self._agents[(cluster, agent.id)] = AgentSamples(
                    agent.attributes.get("owner"), deque(maxlen=self.limit)
                )
            kept.owner = agent.attributes.get("owner")
            kept.samples.append(
                UsageSample(
                    at=at,
                    used_resources=agent.used_resources,
                    resources=agent.resources,
                    measured_resources=measured.get(agent.id),
                )
            )

    def forget_old(self, now: datetime) -> None:
        """Agents not seen for a whole window (removed, or their cluster long gone)."""
        since = now - timedelta(seconds=self.window_s)
        for key in [
            k for k, v in self._agents.items() if not v.samples or v.samples[-1].at < since
        ]:
            del self._agents[key]

    def forget_cluster(self, cluster: str) -> None:
        """A cluster no longer served: its agents' samples go now, not a window later."""
        for key in [k for k in self._agents if k[0] == cluster]:
            del self._agents[key]

    async def sample(self) -> None:
        """One sample of every agent of every cluster that answers."""
        clusters = list(self.orchestrator.clusters.values())
        found = await asyncio.gather(*(self._sample(c) for c in clusters), return_exceptions=True)
        now = utc_now()
        for cluster, sampled in zip(clusters, found, strict=True):
            if isinstance(sampled, tuple):
                self.record(cluster.name, sampled[0], now, sampled[1])
            elif not isinstance(sampled, AsgardError | TimeoutError | OSError):
                log.warning("usage sample failed", cluster=cluster.name, error=repr(sampled))
        self.forget_old(now)
        self.rounds += 1

    async def _sample(self, cluster: Cluster) -> tuple[list[Agent], dict[str, Resources]]:
        """The cluster's agents, then their meters (only once the cluster answered, and
        within one interval, so a slow meter never stacks samples up)."""
        agents = await _agents(cluster)
        timeout_s = max(self.interval_s, cluster.timeout_s)
        measured = await cluster.sample(AgentsBackend.measure_agents, SAMPLER, timeout_s)
        return agents, dict(measured or {})

    async def start(self) -> None:
        await self.loop.start()

    async def close(self) -> None:
        await self.loop.close()


async def _agents(cluster: Cluster) -> list[Agent]:
    """Every agent of the cluster: what its cache holds of them for an account without
    owner (any namespace: resources do not depend on it), else one listing."""
    cache = cluster.cache
    if cache is not None and cache.current:
        for scope, entry in list(cache.entries.items()):
            if scope.resource == "agents" and scope.owner is None:
                return list(entry.items.values())
    listed = await cluster.list(AgentsBackend.list_agents, SAMPLER, (), {})
    return list(listed.items)
