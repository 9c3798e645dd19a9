"""Registers the ``docker`` cluster kind (entry point ``asgard.backends:docker``)."""

from __future__ import annotations

import os
from typing import Literal

from pydantic import Field

from asgard.backends.base import ClusterOrchestrator
from asgard.backends.docker.backends import KIND, DockerAgentsBackend, DockerAppsBackend
from asgard.backends.docker.client import DockerClient
from asgard.backends.docker.feed import DockerFeed
from asgard.backends.docker.jobs import DockerJobsBackend
from asgard.backends.registry import BackendContext, BackendPlugin, ClusterConfig

DEFAULT_SOCKET = "unix:///var/run/docker.sock"


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


def local_engine_url() -> str:
    """Where the local engine would answer: ``DOCKER_HOST``, else the default socket."""
    return os.environ.get("DOCKER_HOST") or DEFAULT_SOCKET


class DockerPlugin(BackendPlugin):
    kind = KIND
    config_model = DockerClusterConfig

    async def build(
        self, config: DockerClusterConfig, context: BackendContext
    ) -> ClusterOrchestrator:
        client = DockerClient(
            cluster=config.name, url=config.url or local_engine_url(), timeout_s=config.timeout_s
        )
        return ClusterOrchestrator(
            name=config.name,
            kind=KIND,
            client=client,
            agents=DockerAgentsBackend(client),
            apps=DockerAppsBackend(client),
            jobs=DockerJobsBackend(client, context.artifacts, retention_s=config.job_retention_s),
            timeout_s=config.timeout_s,
            write_timeout_s=config.write_timeout_s,
            feed=DockerFeed(client),
        )


plugin = DockerPlugin()
