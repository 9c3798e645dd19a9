"""What Podman's Docker-compatible service says differently from a Docker Engine.

The docker kind talks to Podman (``podman system service``) as to an engine alone; it
has no Swarm. Where its answers mean something else, the code that reads them asks
here, so each difference is told once:

- ``/info`` answers a new random ``ID`` on every call: the engine's agent is named by
  the host's name instead, which stays (``engine_id``).
- ``/info`` has no ``Labels`` (an operator cannot label a Podman), so the engine's agent
  attributes come from the cluster's entry alone (``agent_attributes``).
- ``/containers/{id}/stats`` counts CPU time against the busy time of every cgroup, and
  answers nothing for a stopped container (``stats.py``).
- A container's ``Env`` holds variables Podman adds itself, and its ``PortBindings``
  the host port Podman chose for a port published on any; Asgard keeps what the spec
  said in labels (``labels.py``), so an app reads back as deployed on either engine.

Podman is told by what only it answers: the ``BuildahVersion`` of ``/info`` (the image
builder it embeds) and a ``Podman Engine`` among the components of ``/version``.
"""

from __future__ import annotations

from typing import Final

from asgard.backends.common import Json

__all__ = ["PODMAN_COMPONENT", "engine_id", "is_podman", "runs_podman"]

PODMAN_COMPONENT: Final = "Podman Engine"


def is_podman(info: Json) -> bool:
    """Whether this ``/info`` answer is Podman's."""
    return "BuildahVersion" in info


def runs_podman(version: Json) -> bool:
    """Whether this ``/version`` answer is Podman's."""
    components = version.get("Components")
    if not isinstance(components, list):
        return False
    return any(isinstance(c, dict) and c.get("Name") == PODMAN_COMPONENT for c in components)


def engine_id(info: Json) -> str:
    """The id of the engine's host as an agent: Docker's own ``ID``, or, on Podman, whose
    ``ID`` changes with every answer, the host's name."""
    if is_podman(info) and info.get("Name"):
        return str(info["Name"])
    return str(info["ID"])
