"""The configuration of a ``docker`` cluster: one engine, alone or a Swarm manager."""

from __future__ import annotations

import os
from typing import Final, Literal

from pydantic import Field

from asgard.backends.docker.specs import Hardening
from asgard.backends.registry import ClusterConfig

KIND: Final = "docker"
DEFAULT_SOCKET: Final = "unix:///var/run/docker.sock"
LOCAL_CLUSTER: Final = "local"
"""The name of the local engine when Asgard serves it without a clusters file."""


class DockerClusterConfig(ClusterConfig):
    kind: Literal["docker"] = "docker"
    url: str | None = Field(
        None,
        description="unix:///path/to/docker.sock or tcp://host:2375; DOCKER_HOST or the "
        "default socket when absent",
    )
    job_retention_s: float = Field(
        7 * 24 * 3600.0,
        gt=0,
        description="Finished jobs (containers, volumes, output) are removed this long after "
        "they end",
    )

    agent_attributes: dict[str, str] = Field(
        default_factory=dict,
        description="Attributes of a single engine's agent (its owner, a zone), beside and "
        "over the engine's labels: how a Podman, which has no engine labels, gets any",
    )

    app_defaults: Literal["baseline", "none"] = Field(
        "baseline",
        description="baseline: apps' containers run with no-new-privileges and every Linux "
        "capability dropped but CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, NET_BIND_SERVICE, "
        "SETGID, SETPCAP and SETUID; none: the engine's defaults. Jobs are always locked down",
    )
    pids_limit: int | None = Field(
        4096, ge=1, description="Processes (threads included) an app's container may have"
    )

    def hardening(self) -> Hardening:
        return Hardening(baseline=self.app_defaults == "baseline", pids_limit=self.pids_limit)

    def engine_url(self) -> str:
        return self.url or local_engine_url()


def local_engine_url() -> str:
    """Where the local engine would answer: ``DOCKER_HOST``, else the default socket."""
    return os.environ.get("DOCKER_HOST") or DEFAULT_SOCKET
