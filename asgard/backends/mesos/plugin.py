"""Registers the ``mesos`` cluster kind (entry point ``asgard.backends:mesos``).

Caches follow Marathon's ``/v2/events`` for apps and tasks where Marathon offers it,
and poll the masters and Chronos (``poll_s``), which have no stream (``feed.py``)."""

from __future__ import annotations

from asgard.backends.contract import ClusterParts
from asgard.backends.mesos.agents import MesosAgentsBackend
from asgard.backends.mesos.apps import MesosAppsBackend
from asgard.backends.mesos.client import MesosClient
from asgard.backends.mesos.config import KIND, MesosClusterConfig
from asgard.backends.mesos.feed import MesosFeed
from asgard.backends.mesos.jobs import MesosJobsBackend
from asgard.backends.mesos.scheduled_jobs import MesosScheduledJobsBackend
from asgard.backends.registry import BackendContext, BackendPlugin
from asgard.models import Capabilities

CAPABILITIES = Capabilities(
    # Sandbox files carry no times: there is nothing to read logs since.
    log_since=False,
    # Chronos runs a command in a sandbox it prepares itself: nothing goes in, nothing is
    # kept (no log either), it says not how the command exited, and it cannot stop a run
    # at a timeout.
    job_logs=False,
    job_files=False,
    workflow_volumes=False,
    job_exit_codes=False,
    job_timeouts=False,
    own_scheduler=True,
)
"""What a Mesos cluster with Marathon and Chronos can do."""


def capabilities_for(config: MesosClusterConfig) -> Capabilities:
    """Without Marathon, a cluster of agents alone; without Chronos, no jobs of any kind."""
    return CAPABILITIES.model_copy(
        update={
            "apps": bool(config.marathon_urls),
            "jobs": config.chronos_url is not None,
            "scheduled_jobs": config.chronos_url is not None,
        }
    ).implied()


class MesosPlugin(BackendPlugin[MesosClusterConfig]):
    kind = KIND
    config_model = MesosClusterConfig

    async def parts(self, config: MesosClusterConfig, context: BackendContext) -> ClusterParts:
        client = MesosClient(config)
        return ClusterParts(
            client=client,
            agents=MesosAgentsBackend(client),
            apps=MesosAppsBackend(client),
            jobs=MesosJobsBackend(client),
            scheduled_jobs=MesosScheduledJobsBackend(client),
            feed=MesosFeed(client.marathon, config.poll_s),
            capabilities=capabilities_for(config),
        )


plugin = MesosPlugin()
