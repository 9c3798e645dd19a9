"""Registers the ``kubernetes`` cluster kind (entry point ``asgard.backends:kubernetes``)."""

from __future__ import annotations

from asgard.backends.contract import ClusterParts
from asgard.backends.kubernetes.access import missing_permissions
from asgard.backends.kubernetes.agents import KubernetesAgentsBackend
from asgard.backends.kubernetes.apps import KubernetesAppsBackend
from asgard.backends.kubernetes.client import KubeClient
from asgard.backends.kubernetes.config import KIND, KubernetesClusterConfig
from asgard.backends.kubernetes.feed import KubernetesFeed
from asgard.backends.kubernetes.jobs import KubernetesJobsBackend
from asgard.backends.kubernetes.scheduled_jobs import KubernetesScheduledJobsBackend
from asgard.backends.kubernetes.store import KubeStore
from asgard.backends.kubernetes.views import StoreItems, StoreView
from asgard.backends.kubernetes.workloads import WorkloadReader
from asgard.backends.registry import BackendContext, BackendPlugin
from asgard.models import Capabilities


class KubernetesPlugin(BackendPlugin[KubernetesClusterConfig]):
    kind = KIND
    config_model = KubernetesClusterConfig

    async def parts(self, config: KubernetesClusterConfig, context: BackendContext) -> ClusterParts:
        client = KubeClient(config)
        store = KubeStore()
        view = StoreView(store, config.name)
        workloads = WorkloadReader(client, view)
        return ClusterParts(
            client=client,
            agents=KubernetesAgentsBackend(client, workloads, view),
            apps=KubernetesAppsBackend(client, workloads, view),
            jobs=KubernetesJobsBackend(client, config, context, view),
            scheduled_jobs=KubernetesScheduledJobsBackend(client),
            # The feed keeps the store the listings come from, and names the items each
            # change touched: the cache updates those alone.
            feed=KubernetesFeed(client, store),
            items=StoreItems(view),
            # Without a public URL the pods cannot fetch their input or send their output.
            capabilities=Capabilities(job_files=context.public_url is not None, own_scheduler=True),
        )

    async def missing_permissions(
        self, config: KubernetesClusterConfig, parts: ClusterParts
    ) -> list[str]:
        """The cluster-wide reads Asgard's credentials lack, asked of the API server."""
        assert isinstance(parts.client, KubeClient)
        return await missing_permissions(parts.client)


plugin = KubernetesPlugin()
