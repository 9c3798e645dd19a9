"""Which clusters this Asgard serves, assembled from their kinds' parts.

The clusters come from the TOML file or, without one, from the kinds that offer a
default (the local Docker Engine when it answers). Each entry becomes a ``Cluster``
here, in one place, whatever its kind: the plugin makes the parts, the core applies
the entry's timeouts, breaker, resync and polling, and enables its cache.
"""

from __future__ import annotations

import structlog

from asgard.backends.cluster import Cluster
from asgard.backends.orchestrator import Orchestrator
from asgard.backends.registry import BackendContext, ClusterConfig, installed_plugins, plugin_for
from asgard.events import EventHub
from asgard.settings import Settings, read_clusters_file

log = structlog.get_logger(__name__)


async def default_configs() -> list[ClusterConfig]:
    """What the installed kinds offer when no clusters file is given."""
    found = []
    for kind, plugin in sorted(installed_plugins().items()):
        config = await plugin.default_config()
        if config is not None:
            log.info("serving a cluster found by its kind", kind=kind, cluster=config.name)
            found.append(config)
    return found


async def cluster_configs(settings: Settings) -> list[ClusterConfig]:
    if settings.config is not None:
        return read_clusters_file(settings.config)
    return await default_configs()


async def assemble(
    config: ClusterConfig, context: BackendContext, hub: EventHub | None = None
) -> Cluster:
    """One cluster from its entry; with a ``hub``, with its cache if the entry keeps one."""
    parts = await plugin_for(config.kind).parts(config, context)
    cluster = Cluster(config, parts)
    if hub is not None and config.cache:
        cluster.enable_cache(hub)
    return cluster


async def build_fleet(
    configs: list[ClusterConfig], context: BackendContext, hub: EventHub | None = None
) -> Orchestrator:
    """Every cluster of the configuration, as one ``Orchestrator``."""
    return Orchestrator([await assemble(config, context, hub) for config in configs])
