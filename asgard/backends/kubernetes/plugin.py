"""Registers the ``kubernetes`` cluster kind (entry point ``asgard.backends:kubernetes``)."""

from __future__ import annotations

from asgard.backends.base import ClusterOrchestrator
from asgard.backends.kubernetes.agents import KubernetesAgentsBackend
from asgard.backends.kubernetes.apps import KubernetesAppsBackend
from asgard.backends.kubernetes.client import KubeClient, KubernetesClusterConfig
from asgard.backends.kubernetes.feed import KubernetesFeed
from asgard.backends.kubernetes.jobs import KubernetesJobsBackend
from asgard.backends.kubernetes.scheduled_jobs import KubernetesScheduledJobsBackend
from asgard.backends.kubernetes.workloads import WorkloadReader
from asgard.backends.registry import BackendContext, BackendPlugin

KIND = "kubernetes"


class KubernetesPlugin(BackendPlugin):
    kind = KIND
    config_model = KubernetesClusterConfig

    async def build(
        self, config: KubernetesClusterConfig, context: BackendContext
    ) -> ClusterOrchestrator:
        client = KubeClient(config)
        workloads = WorkloadReader(client)
        return ClusterOrchestrator(
            name=config.name,
            kind=KIND,
            client=client,
            agents=KubernetesAgentsBackend(client, workloads),
            apps=KubernetesAppsBackend(client, workloads),
            jobs=KubernetesJobsBackend(
                client, config, context.artifacts, context.job_tokens, context.public_url
            ),
            scheduled_jobs=KubernetesScheduledJobsBackend(client),
            timeout_s=config.timeout_s,
            write_timeout_s=config.write_timeout_s,
            feed=KubernetesFeed(client),
        )


plugin = KubernetesPlugin()
