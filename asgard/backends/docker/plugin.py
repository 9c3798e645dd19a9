"""Registers the ``docker`` cluster kind (entry point ``asgard.backends:docker``)."""

from __future__ import annotations

import structlog

from asgard.backends.contract import ClusterParts
from asgard.backends.docker.agents import DockerAgentsBackend
from asgard.backends.docker.apps import DockerAppsBackend
from asgard.backends.docker.client import DockerClient
from asgard.backends.docker.config import (
    KIND,
    LOCAL_CLUSTER,
    DockerClusterConfig,
    local_engine_url,
)
from asgard.backends.docker.feed import DockerFeed
from asgard.backends.docker.jobs import DockerJobsBackend
from asgard.backends.docker.scheduled_jobs import DockerScheduledJobsBackend
from asgard.backends.docker.variants import Variants
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
        )
        variants = Variants(client, context.artifacts, config.hardening())
        jobs = DockerJobsBackend(variants, context, retention_s=config.job_retention_s)
        return ClusterParts(
            client=client,
            agents=DockerAgentsBackend(variants),
            apps=DockerAppsBackend(variants),
            jobs=jobs,
            scheduled_jobs=DockerScheduledJobsBackend(client),
            feed=DockerFeed(client),
            capabilities=CAPABILITIES,
            nudges=jobs.nudges,
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
