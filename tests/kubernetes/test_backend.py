"""The Kubernetes backend against the emulator: what it asks, what it makes of the answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from asgard.backends.contract import AgentsBackend, JobsBackend
from asgard.backends.kubernetes.config import KubernetesClusterConfig
from asgard.backends.orchestrator import Orchestrator
from asgard.errors import NotFound
from asgard.models import Account
from tests.conftest import KubeCluster, backend_context, build, running_kube

ALL = Account(id=1, name="all", namespace="dev")
TEAM_A = Account(id=2, name="a", namespace="dev", owner="team-a")


def pod(
    name: str,
    node: str,
    *,
    requests: dict[str, str],
    init: dict[str, str] | None = None,
    phase: str = "Running",
) -> dict[str, object]:
    spec: dict[str, object] = {
        "nodeName": node,
        "containers": [
            {"name": "a", "resources": {"requests": requests}},
            {"name": "b", "resources": {"requests": requests}},
        ],
    }
    if init:
        spec["initContainers"] = [{"name": "i", "resources": {"requests": init}}]
    return {
        "metadata": {"name": name, "namespace": "other"},
        "spec": spec,
        "status": {"phase": phase},
    }


async def test_node_usage_is_the_requests_of_pods_that_have_not_ended(kube: KubeCluster) -> None:
    api = kube.controllers
    await api.call(
        "POST",
        "/api/v1/namespaces/other/pods",
        pod("p1", "node-1", requests={"cpu": "250m", "memory": "64Mi"}),
    )
    await api.call(
        "POST",
        "/api/v1/namespaces/other/pods",
        pod(
            "p2",
            "node-1",
            requests={"cpu": "100m", "memory": "32Mi"},
            init={"cpu": "1", "memory": "16Mi"},
        ),
    )
    await api.call(
        "POST",
        "/api/v1/namespaces/other/pods",
        pod("p3", "node-1", requests={"cpu": "2"}, phase="Succeeded"),
    )
    agent = await kube.orchestrator.call(ALL, "k8s", AgentsBackend.get_agent, "node-1")
    # p1: 2 x (250m, 64Mi); p2: max(2 x 100m, 1) = 1 core, max(2 x 32Mi, 16Mi) = 64Mi; p3 has ended
    assert agent.used_resources.cpus == pytest.approx(1.5)
    assert agent.used_resources.mem == pytest.approx(192)
    assert agent.resources.cpus == 4
    assert agent.resources.mem == 8192
    assert agent.stats.cpu_pct == 37.5
    listed = {
        a.id: a
        for a in (await kube.orchestrator.fan_out(ALL, None, AgentsBackend.list_agents)).items
    }
    assert listed["node-1"].used_resources == agent.used_resources
    assert listed["node-2"].used_resources.cpus == 0


async def test_agents_are_read_page_by_page() -> None:
    async with running_kube(page_size=2) as kube:
        for n in range(3, 8):
            await kube.controllers.add_node(f"node-{n}")
        kube.emulator.requests_log.clear()
        agents = (await kube.orchestrator.fan_out(ALL, None, AgentsBackend.list_agents)).items
        assert sorted(a.id for a in agents) == [f"node-{n}" for n in range(1, 8)]
        node_lists = [q for m, p, q in kube.emulator.requests_log if p == "/api/v1/nodes"]
        assert len(node_lists) == 4, "7 nodes, 2 a page"
        assert all(q["limit"] == "2" for q in node_lists)
        assert sum("continue" in q for q in node_lists) == 3


async def test_an_expired_continue_token_restarts_the_list() -> None:
    async with running_kube(page_size=2) as kube:
        for n in range(3, 8):
            await kube.controllers.add_node(f"node-{n}")
        kube.emulator.expire_next_continue()
        kube.emulator.requests_log.clear()
        agents = (await kube.orchestrator.fan_out(ALL, None, AgentsBackend.list_agents)).items
        assert sorted(a.id for a in agents) == [f"node-{n}" for n in range(1, 8)], "every node once"
        node_lists = [q for m, p, q in kube.emulator.requests_log if p == "/api/v1/nodes"]
        assert "continue" in node_lists[1], "the second page was asked for..."
        assert "continue" not in node_lists[2], "...answered 410, and the list started over"


async def test_owner_scoping_asks_the_server_for_the_owners_nodes(kube: KubeCluster) -> None:
    await kube.controllers.call(
        "PATCH", "/api/v1/nodes/node-2", {"metadata": {"labels": {"owner": "team-a"}}}
    )
    kube.emulator.requests_log.clear()
    agents = (await kube.orchestrator.fan_out(TEAM_A, None, AgentsBackend.list_agents)).items
    assert [a.id for a in agents] == ["node-2"]
    sent = [q for m, p, q in kube.emulator.requests_log if p == "/api/v1/nodes"]
    assert sent[0]["labelSelector"] == "owner=team-a", "the selector goes to the server"


def test_a_cluster_is_given_one_way() -> None:
    with pytest.raises(ValueError, match="exactly one of"):
        KubernetesClusterConfig(name="x", url="https://k", token="t", in_cluster=True)
    with pytest.raises(ValueError, match="not both"):
        KubernetesClusterConfig(name="x", url="https://k", token="t", token_file=Path("f"))
    with pytest.raises(ValueError, match="go together"):
        KubernetesClusterConfig(name="x", url="https://k", client_cert=Path("c"))
    assert KubernetesClusterConfig(name="x", in_cluster=True).in_cluster
    assert KubernetesClusterConfig(name="x", url="http://127.0.0.1:8001").anonymous
    assert not KubernetesClusterConfig(
        name="x", url="https://k", insecure_skip_tls_verify=True
    ).checks_tls


async def test_a_url_without_credentials_is_used_as_kubectl_proxy_serves_it(
    kube: KubeCluster,
) -> None:
    cluster = await build(KubernetesClusterConfig(name="proxy", url=kube.url), backend_context())
    try:
        agents = (await Orchestrator([cluster]).fan_out(ALL, None, AgentsBackend.list_agents)).items
        assert sorted(a.id for a in agents) == ["node-1", "node-2"]
        sent = [h for p, h in kube.emulator.headers_log if p == "/api/v1/nodes"]
        assert "Authorization" not in sent[-1], "no credentials are sent"
    finally:
        await cluster.close()


async def test_a_kubeconfig_with_a_context(tmp_path: Path, kube: KubeCluster) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        f"""
apiVersion: v1
kind: Config
clusters:
- name: emulated
  cluster: {{server: "{kube.url}"}}
- name: elsewhere
  cluster: {{server: "http://127.0.0.1:9"}}
users:
- name: asgard
  user: {{token: "from-kubeconfig"}}
contexts:
- name: here
  context: {{cluster: emulated, user: asgard}}
- name: there
  context: {{cluster: elsewhere, user: asgard}}
current-context: there
"""
    )
    cluster = await build(
        KubernetesClusterConfig(name="k8s", kubeconfig=kubeconfig, context="here"),
        backend_context(),
    )
    try:
        agents = (await Orchestrator([cluster]).fan_out(ALL, None, AgentsBackend.list_agents)).items
        assert sorted(a.id for a in agents) == ["node-1", "node-2"]
        status = await cluster.status()
        assert (status.status, status.version) == ("ok", "v1.26.4+k3s1")
    finally:
        await cluster.close()


async def test_a_token_file_is_read(tmp_path: Path, kube: KubeCluster) -> None:
    token = tmp_path / "token"
    token.write_text("token-from-a-file\n")
    cluster = await build(
        KubernetesClusterConfig(name="k8s", url=kube.url, token_file=token), backend_context()
    )
    try:
        await Orchestrator([cluster]).fan_out(ALL, None, AgentsBackend.list_agents)
        sent = [h for p, h in kube.emulator.headers_log if p == "/api/v1/nodes"]
        assert sent[-1].get("Authorization") == "Bearer token-from-a-file"
    finally:
        await cluster.close()


async def test_an_id_no_object_can_have_is_not_found(kube: KubeCluster) -> None:
    """Not a URL of another meaning (``?;`` would end the path and start a query)."""
    for op, value in ((JobsBackend.delete_job, "?;"), (JobsBackend.get_job, "a b")):
        with pytest.raises(NotFound):
            await kube.orchestrator.call(ALL, "k8s", op, value)
    with pytest.raises(NotFound):
        await kube.orchestrator.call(ALL, "k8s", AgentsBackend.get_agent, "node-1?x=1")


async def test_watches_ended_at_once_are_not_reopened_in_a_loop(kube: KubeCluster) -> None:
    """A proxy that closes every watch as soon as it opens must cost a request a second
    per resource, not a loop of them."""
    import asyncio
    import contextlib

    from asgard.backends.kubernetes.feed import SHORTEST_WATCH_S, WATCHED

    assert kube.cluster.feed is not None
    signals = kube.cluster.feed.signals()

    async def follow() -> None:
        async for _ in signals:
            pass

    following = asyncio.create_task(follow())
    kube.emulator.requests_log.clear()
    seconds = 3.0
    for _ in range(int(seconds / 0.02)):
        kube.emulator.end_watches()
        await asyncio.sleep(0.02)
    following.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await following
    for path in ("/" + "/".join(segments) for segments in WATCHED):
        opened = [q for _, p, q in kube.emulator.requests_log if p == path and q.get("watch")]
        assert 1 <= len(opened) <= seconds / SHORTEST_WATCH_S + 2, f"{path}: {len(opened)}"
