"""Every field of a ``[[clusters]]`` entry takes effect on every kind, applied by the core.

Plugins only make a cluster's parts; the core assembles the cluster and applies the
entry's timeouts itself. So a ``write_timeout_s`` written in the TOML file cuts a change
short on Docker, Kubernetes, Mesos and a kind registered from outside Asgard alike.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from asgard.backends.contract import AppsBackend
from asgard.clusters import build_fleet
from asgard.errors import ClusterTimeout
from asgard.models import Account
from asgard.settings import read_clusters_file
from testbed.silent import silent_server
from tests.conftest import backend_context

DEV = Account(id=1, name="dev", namespace="dev")
WRITE_TIMEOUT_S = 0.5


@pytest.fixture
async def silent_port() -> AsyncIterator[int]:
    """A port that accepts connections and never answers: a cluster that hangs."""
    async with silent_server() as url:
        yield int(url.rsplit(":", 1)[1])


@pytest.fixture
def clusters_file(tmp_path: Path, silent_port: int) -> Path:
    hanging = f"http://127.0.0.1:{silent_port}"
    path = tmp_path / "asgard.toml"
    common = f"timeout_s = 30\nwrite_timeout_s = {WRITE_TIMEOUT_S}\n"
    path.write_text(
        f"""
[[clusters]]
name = "docker"
kind = "docker"
url = "tcp://127.0.0.1:{silent_port}"
{common}
[[clusters]]
name = "kubernetes"
kind = "kubernetes"
url = "{hanging}"
token = "t"
{common}
[[clusters]]
name = "mesos"
kind = "mesos"
mesos_urls = ["{hanging}"]
marathon_urls = ["{hanging}"]
{common}
[[clusters]]
name = "static"
kind = "static"
delay_s = 30
{common}
"""
    )
    return path


@pytest.mark.parametrize("cluster", ["docker", "kubernetes", "mesos", "static"])
async def test_a_write_timeout_from_the_file_cuts_a_change_short(
    clusters_file: Path, cluster: str
) -> None:
    fleet = await build_fleet(read_clusters_file(clusters_file), backend_context())
    try:
        assert fleet.cluster(DEV, cluster).write_timeout_s == WRITE_TIMEOUT_S
        started = time.monotonic()
        with pytest.raises(ClusterTimeout) as raised:
            await fleet.call(DEV, cluster, AppsBackend.restart_app, "web")
        took = time.monotonic() - started
    finally:
        await fleet.close()
    assert took < 5, f"cut at the write timeout, not the read timeout (took {took:.1f} s)"
    assert f"did not answer in {WRITE_TIMEOUT_S:g} s" in raised.value.msg
    assert raised.value.cluster == cluster
