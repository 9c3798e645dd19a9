"""Which clusters this Asgard serves: the TOML file, or the embedded default."""

from __future__ import annotations

import structlog

from asgard.backends.docker.client import DockerClient
from asgard.backends.docker.plugin import DockerClusterConfig, local_engine_url
from asgard.backends.fleet import Fleet
from asgard.backends.registry import BackendContext, ClusterConfig, plugin_for
from asgard.errors import ClusterError
from asgard.events import EventHub
from asgard.settings import Settings, read_clusters_file

log = structlog.get_logger(__name__)

LOCAL_CLUSTER = "local"
PROBE_TIMEOUT_S = 3.0


async def local_docker_config() -> DockerClusterConfig | None:
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


async def cluster_configs(settings: Settings) -> list[ClusterConfig]:
    if settings.config is not None:
        return read_clusters_file(settings.config)
    local = await local_docker_config()
    return [local] if local else []


async def build_fleet(
    configs: list[ClusterConfig], context: BackendContext, hub: EventHub | None = None
) -> Fleet:
    """The clusters of the configuration; with a ``hub``, each with its cache if configured."""
    clusters = []
    for config in configs:
        cluster = await plugin_for(config.kind).build(config, context)
        cluster.resync_s, cluster.poll_s = config.resync_s, config.poll_s
        cluster.breaker.retry_s = config.retry_down_s
        if hub is not None and config.cache:
            cluster.enable_caches(hub)
        clusters.append(cluster)
    return Fleet(clusters)
