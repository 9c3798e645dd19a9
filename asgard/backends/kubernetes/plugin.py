"""Registers the ``kubernetes`` cluster kind (entry point ``asgard.backends:kubernetes``)."""

from __future__ import annotations

from asgard.backends.contract import ClusterParts
from asgard.backends.kubernetes.agents import KubernetesAgentsBackend
from asgard.backends.kubernetes.apps import KubernetesAppsBackend
from asgard.backends.kubernetes.client import KubeClient
from asgard.backends.kubernetes.config import KIND, KubernetesClusterConfig
from asgard.backends.kubernetes.feed import KubernetesFeed
from asgard.backends.kubernetes.jobs import KubernetesJobsBackend
from asgard.backends.kubernetes.scheduled_jobs import KubernetesScheduledJobsBackend
from asgard.backends.kubernetes.workloads import WorkloadReader
from asgard.backends.registry import BackendContext, BackendPlugin
from asgard.models import Capabilities


class KubernetesPlugin(BackendPlugin[KubernetesClusterConfig]):
    kind = KIND
    config_model = KubernetesClusterConfig

    async def parts(self, config: KubernetesClusterConfig, context: BackendContext) -> ClusterParts:
        client = KubeClient(config)
        workloads = WorkloadReader(client)
        return ClusterParts(
            client=client,
            agents=KubernetesAgentsBackend(client, workloads),
            apps=KubernetesAppsBackend(client, workloads),
            jobs=KubernetesJobsBackend(
                client, config, context.artifacts, context.job_tokens, context.public_url
            ),
            scheduled_jobs=KubernetesScheduledJobsBackend(client),
            feed=KubernetesFeed(client),
            # Without a public URL the pods cannot fetch their input or send their output.
            capabilities=Capabilities(job_files=context.public_url is not None),
        )


plugin = KubernetesPlugin()
