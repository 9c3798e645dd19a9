"""Registers the ``mesos`` cluster kind (entry point ``asgard.backends:mesos``).

Caches follow Marathon's ``/v2/events`` for apps and tasks where Marathon offers it,
and poll the masters and Chronos (``poll_s``), which have no stream (``feed.py``)."""

from __future__ import annotations

from asgard.backends.base import ClusterOrchestrator
from asgard.backends.mesos.agents import MesosAgentsBackend
from asgard.backends.mesos.apps import MesosAppsBackend
from asgard.backends.mesos.client import MesosClient
from asgard.backends.mesos.config import MesosClusterConfig
from asgard.backends.mesos.feed import MesosFeed
from asgard.backends.mesos.jobs import MesosJobsBackend
from asgard.backends.mesos.scheduled_jobs import MesosScheduledJobsBackend
from asgard.backends.registry import BackendContext, BackendPlugin

KIND = "mesos"


class MesosPlugin(BackendPlugin):
    kind = KIND
    config_model = MesosClusterConfig

    async def build(
        self, config: MesosClusterConfig, context: BackendContext
    ) -> ClusterOrchestrator:
        client = MesosClient(config)
        return ClusterOrchestrator(
            name=config.name,
            kind=KIND,
            client=client,
            agents=MesosAgentsBackend(client),
            apps=MesosAppsBackend(client),
            jobs=MesosJobsBackend(client),
            scheduled_jobs=MesosScheduledJobsBackend(client),
            timeout_s=config.timeout_s,
            write_timeout_s=config.write_timeout_s,
            feed=MesosFeed(client.marathon, config.poll_s),
        )


plugin = MesosPlugin()
