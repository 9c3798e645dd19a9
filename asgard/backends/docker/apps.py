"""Apps of a Docker cluster, whichever mode the engine is in: what both modes share.

Each mode implements the apps part itself (``engine.apps.EngineApps``: labelled
containers; ``swarm.apps.SwarmApps``: services), and the cluster runs each operation on
the mode the engine is in (``asgard.backends.modes``). Stats are the same in both: a
sample the engine takes now of the containers it can reach (it keeps no history).
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from asgard.backends.contract import AppsBackend
from asgard.backends.docker.client import DockerClient
from asgard.backends.docker.config import KIND
from asgard.backends.docker.stats import app_stats_from, sample_all
from asgard.models import Account, AppStats, StatsWindow

__all__ = ["DockerApps"]


class DockerApps(AppsBackend, ABC):
    """The apps of one mode of an engine."""

    def __init__(self, client: DockerClient) -> None:
        super().__init__(client.cluster, KIND)
        self.client = client

    @abstractmethod
    async def running_containers(self, account: Account, app_id: str) -> tuple[list[str], int]:
        """The containers of the app's running instances this engine can sample, and how
        many instances run where it cannot (other nodes of a Swarm); ``NotFound`` for an
        unknown app."""

    async def app_stats(self, account: Account, app_id: str, window: StatsWindow) -> AppStats:
        containers, skipped = await self.running_containers(account, app_id)
        return app_stats_from(await sample_all(self.client, containers), skipped)
