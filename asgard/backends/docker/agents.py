"""Agents of a Docker cluster, whichever mode the engine is in: what both modes share.

Each mode implements the agents part itself (``engine.agents.EngineAgents``: the host;
``swarm.agents.SwarmAgents``: the Swarm's nodes). Both meter the same way: what the
engine's own containers use, which on a Swarm is the manager's node alone.
"""

from __future__ import annotations

from asgard.backends.contract import AgentsBackend
from asgard.backends.docker.client import DockerClient
from asgard.backends.docker.config import KIND
from asgard.backends.docker.stats import measure_engine
from asgard.models import Account, Resources

__all__ = ["DockerAgents"]


class DockerAgents(AgentsBackend):
    """The agents of one mode of an engine."""

    def __init__(self, client: DockerClient) -> None:
        super().__init__(client.cluster, KIND)
        self.client = client

    async def measure_agents(self, account: Account) -> dict[str, Resources]:
        return await measure_engine(self.client)
