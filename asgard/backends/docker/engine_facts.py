"""What a Docker Engine (or Podman) says of itself, read once and kept by the client
(``client.py``): whether it is a Swarm manager (``EngineMode``), the host it runs on
(``EngineHost``), and the version its answers' ``Server`` header names."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from asgard.backends.common import Json
from asgard.backends.docker.podman import engine_id, is_podman

__all__ = ["ENGINE_ALONE", "SERVER_VERSION", "SWARM", "EngineHost", "EngineMode"]

SERVER_VERSION: Final = re.compile(
    r"(?:Docker|Libpod)/(?P<version>[0-9][\w.+~-]{0,63})(?: \(\w+\))?"
)
"""The ``Server`` header of a Docker Engine's or Podman's answers."""

SWARM: Final = "swarm"
ENGINE_ALONE: Final = "engine"


@dataclass(frozen=True)
class EngineMode:
    """What the engine is: a Swarm manager (apps are services, agents its nodes) or alone
    (apps are labelled containers, the engine's host the one agent)."""

    swarm: bool
    node_id: str
    """This engine's Swarm node: where Swarm jobs are placed, whose containers it can see."""

    @property
    def name(self) -> str:
        """``swarm`` or ``engine``: whose parts answer (``asgard.backends.modes``)."""
        return SWARM if self.swarm else ENGINE_ALONE

    @classmethod
    def of(cls, info: Json) -> EngineMode:
        swarm = info.get("Swarm") or {}
        manager = swarm.get("LocalNodeState") == "active" and bool(swarm.get("ControlAvailable"))
        return cls(swarm=manager, node_id=str(swarm.get("NodeID") or "") if manager else "")


@dataclass(frozen=True)
class EngineHost:
    """The host a single engine runs on, as the agent its containers are on: what a task
    names, kept with the mode so that listing tasks does not ask ``/info`` again (on
    Podman each ``/info`` runs the package manager to report its components' versions)."""

    agent_id: str
    name: str
    podman: bool
    """Podman has no labels of its own: its agent's attributes are the cluster entry's."""

    @classmethod
    def of(cls, info: Json) -> EngineHost:
        agent_id = engine_id(info)
        return cls(
            agent_id=agent_id, name=str(info.get("Name") or agent_id), podman=is_podman(info)
        )
