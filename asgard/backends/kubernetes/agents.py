"""Nodes are agents. Used resources are the requests of the pods bound to each node
that have not ended, as ``kubectl describe node`` counts them.

The listing comes from the cluster's store while it is current (the watches keep each
node's sums there, event by event); otherwise, and for single agents, from the API
server, summed the same way."""

from __future__ import annotations

import asyncio
from collections import defaultdict

from asgard.backends.common import Json
from asgard.backends.contract import AgentsBackend
from asgard.backends.kubernetes.client import KubeClient
from asgard.backends.kubernetes.config import KIND
from asgard.backends.kubernetes.converters import node_to_agent, owning_workload
from asgard.backends.kubernetes.records import pod_record, used_of
from asgard.backends.kubernetes.stats import measure_nodes
from asgard.backends.kubernetes.views import StoreView
from asgard.backends.kubernetes.workloads import WorkloadReader
from asgard.errors import NotFound
from asgard.models import Account, Agent, App, Resources

NOT_ENDED = "status.phase!=Succeeded,status.phase!=Failed"


class KubernetesAgentsBackend(AgentsBackend):
    def __init__(self, client: KubeClient, workloads: WorkloadReader, view: StoreView) -> None:
        super().__init__(client.cluster, KIND)
        self.client = client
        self.workloads = workloads
        self.view = view

    def _agents(self, account: Account, nodes: list[Json], pods: list[Json]) -> list[Agent]:
        cpu: dict[str, int] = defaultdict(int)
        mem: dict[str, int] = defaultdict(int)
        apps: dict[str, set[tuple[str, str]]] = defaultdict(set)
        for pod in map(pod_record, pods):
            if not pod.node:
                continue
            cpu[pod.node] += pod.units[0]
            mem[pod.node] += pod.units[1]
            if pod.namespace == account.namespace and pod.owner is not None:
                apps[pod.node].add(pod.owner)
        return [
            node_to_agent(
                n,
                cluster=self.cluster,
                used=used_of(cpu[n["metadata"]["name"]], mem[n["metadata"]["name"]]),
                total_apps=len(apps[n["metadata"]["name"]]),
            )
            for n in nodes
        ]

    async def list_agents(self, account: Account) -> list[Agent]:
        if await self.view.store.settled():
            return self.view.agents(account)
        params = {"labelSelector": f"owner={account.owner}"} if account.owner is not None else {}
        (nodes, _), (pods, _) = await asyncio.gather(
            self.client.list_all(("api", "v1", "nodes"), what="list nodes", params=params),
            self.client.list_all(
                ("api", "v1", "pods"), what="list pods", params={"fieldSelector": NOT_ENDED}
            ),
        )
        return self._agents(account, nodes, pods)

    async def _node(self, account: Account, agent_id: str) -> Json:
        try:
            node = await self.client.request(
                "GET", ("api", "v1", "nodes", agent_id), what=f"node {agent_id}"
            )
        except NotFound:
            raise NotFound(f"agent '{agent_id}' not found", cluster=self.cluster) from None
        labels = (node.get("metadata") or {}).get("labels") or {}
        if account.owner is not None and labels.get("owner") != account.owner:
            raise NotFound(f"agent '{agent_id}' not found", cluster=self.cluster)
        return node

    async def get_agent(self, account: Account, agent_id: str) -> Agent:
        node = await self._node(account, agent_id)
        pods, _ = await self.client.list_all(
            ("api", "v1", "pods"),
            what="list pods",
            params={"fieldSelector": f"spec.nodeName={agent_id},{NOT_ENDED}"},
        )
        return self._agents(account, [node], pods)[0]

    async def list_agent_apps(self, account: Account, agent_id: str) -> list[App]:
        await self._node(account, agent_id)
        pods, _ = await self.client.list_all(
            ("api", "v1", "namespaces", account.namespace, "pods"),
            what="list pods",
            params={"fieldSelector": f"spec.nodeName={agent_id},{NOT_ENDED}"},
        )
        owners = {o for o in (owning_workload(p) for p in pods) if o is not None}
        return [
            app
            for kind, workload, app in await self.workloads.all(account)
            if (kind, workload) in owners
        ]

    async def measure_agents(self, account: Account) -> dict[str, Resources]:
        return await measure_nodes(self.client)
