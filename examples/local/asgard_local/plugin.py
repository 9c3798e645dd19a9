"""Registers the ``local`` cluster kind (entry point ``asgard.backends:local``).

Whether jobs can have their own ``/input`` and ``/output`` is found once, here, by
running a probe job (``asgard_local.isolation``); the cluster's capabilities say what
was found. The kind offers no default cluster: it runs commands on Asgard's own host,
so it is used only where a ``[[clusters]]`` entry asks for it.
"""

from __future__ import annotations

from asgard.backends.contract import ClusterParts
from asgard.backends.registry import BackendContext, BackendPlugin
from asgard.models import Capabilities
from asgard_local.agents import LocalAgentsBackend
from asgard_local.apps import LocalAppsBackend
from asgard_local.client import LocalClient
from asgard_local.config import KIND, LocalClusterConfig
from asgard_local.feed import LocalFeed
from asgard_local.host import LocalHost
from asgard_local.identities import Identities
from asgard_local.isolation import Isolation, hidden_paths, probe
from asgard_local.jobs import LocalJobsBackend
from asgard_local.scheduled_jobs import LocalScheduledJobsBackend
from asgard_local.store import Store

__all__ = ["LocalPlugin", "capabilities_for", "plugin"]


def capabilities_for(isolation: Isolation) -> Capabilities:
    """Files and workflow volumes need isolation; the rest the host always does, but for
    logs since a time: log files carry no times."""
    return Capabilities(
        log_since=False,
        job_files=isolation.available,
        workflow_volumes=isolation.available,
        job_exit_codes=True,
        job_timeouts=True,
        checks_images=False,
    )


class LocalPlugin(BackendPlugin[LocalClusterConfig]):
    kind = KIND
    config_model = LocalClusterConfig

    async def parts(self, config: LocalClusterConfig, context: BackendContext) -> ClusterParts:
        state_dir = config.state_path(context)
        store = Store(state_dir)
        identities = Identities(
            store.uids_file,
            run_as=config.run_as,
            base=config.uid_base,
            count=config.uid_count,
            cluster=config.name,
        )
        hidden = hidden_paths(
            [state_dir, context.data_dir.absolute(), *config.hide], context.private_paths
        )
        isolation = (
            await probe(identities.sample(), hidden)
            if config.isolate_jobs
            else Isolation(False, "isolate_jobs is false")
        )
        client = LocalClient(config.name, store, config.attributes, identities)
        host = LocalHost(client, isolation, grace_s=config.stop_grace_s)
        return ClusterParts(
            client=client,
            agents=LocalAgentsBackend(host),
            apps=LocalAppsBackend(host),
            jobs=LocalJobsBackend(host, max_output_bytes=context.artifacts.max_output_bytes),
            scheduled_jobs=LocalScheduledJobsBackend(config.name),
            feed=LocalFeed(host.changes),
            capabilities=capabilities_for(isolation),
        )


plugin = LocalPlugin()
