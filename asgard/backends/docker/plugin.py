"""Registers the ``docker`` cluster kind (entry point ``asgard.backends:docker``).

A Docker Engine is worked in one of two modes, learnt by the client and learnt again
when the engine changes (``feed.py``): a single engine (``engine/``) or a Swarm manager
(``swarm/``). Each mode implements the agents, apps and jobs parts itself; the cluster
is given, for each part, the one that runs every operation on the mode the engine is in
now (``asgard.backends.modes``)."""

from __future__ import annotations

import structlog

from asgard.backends.contract import ClusterParts
from asgard.backends.docker.client import ENGINE_ALONE, SWARM, DockerClient
from asgard.backends.docker.config import (
    KIND,
    LOCAL_CLUSTER,
    DockerClusterConfig,
    local_engine_url,
)
from asgard.backends.docker.engine.agents import EngineAgents
from asgard.backends.docker.engine.apps import EngineApps
from asgard.backends.docker.engine.jobs import EngineJobs
from asgard.backends.docker.feed import DockerFeed
from asgard.backends.docker.jobs import DockerJobsBackend
from asgard.backends.docker.scheduled_jobs import DockerScheduledJobsBackend
from asgard.backends.docker.swarm.agents import SwarmAgents
from asgard.backends.docker.swarm.apps import SwarmApps
from asgard.backends.docker.swarm.jobs import SwarmJobs
from asgard.backends.feeds import Nudges
from asgard.backends.modes import AgentsByMode, AppsByMode
from asgard.backends.registry import BackendContext, BackendPlugin
from asgard.errors import ClusterError
from asgard.models import Capabilities

log = structlog.get_logger(__name__)

PROBE_TIMEOUT_S = 3.0
CAPABILITIES = Capabilities(checks_images=True)


class DockerPlugin(BackendPlugin[DockerClusterConfig]):
    kind = KIND
    config_model = DockerClusterConfig

    async def parts(self, config: DockerClusterConfig, context: BackendContext) -> ClusterParts:
        client = DockerClient(
            cluster=config.name,
            url=config.engine_url(),
            timeout_s=config.timeout_s,
            cap_bytes=int(config.max_answer_mib * 2**20),
            agent_attributes=config.agent_attributes,
        )
        hardening, artifacts, nudges = config.hardening(), context.artifacts, Nudges()
        mode = client.mode_name
        return ClusterParts(
            client=client,
            agents=AgentsByMode.over(
                {ENGINE_ALONE: EngineAgents(client), SWARM: SwarmAgents(client)}, mode
            ),
            apps=AppsByMode.over(
                {ENGINE_ALONE: EngineApps(client, hardening), SWARM: SwarmApps(client, hardening)},
                mode,
            ),
            jobs=DockerJobsBackend(
                {
                    ENGINE_ALONE: EngineJobs(client, artifacts, nudges),
                    SWARM: SwarmJobs(client, artifacts, nudges),
                },
                mode,
                context,
                retention_s=config.job_retention_s,
            ),
            scheduled_jobs=DockerScheduledJobsBackend(client),
            feed=DockerFeed(client),
            capabilities=CAPABILITIES,
            nudges=nudges,
        )

    async def default_config(self) -> DockerClusterConfig | None:
        """The local Docker Engine as a cluster named ``local``, if it answers right now."""
        url = local_engine_url()
        probe = DockerClient(cluster=LOCAL_CLUSTER, url=url, timeout_s=PROBE_TIMEOUT_S)
        try:
            version = await probe.version()
        except ClusterError as exc:
            log.info("no local docker engine", url=url, reason=exc.msg)
            return None
        finally:
            await probe.close()
        log.info("using the local docker engine", url=url, version=version)
        return DockerClusterConfig(name=LOCAL_CLUSTER, url=url)


plugin = DockerPlugin()
