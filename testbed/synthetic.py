"""Synthetic Kubernetes clusters: nodes, Deployments and their pods, put straight into the
emulator's store (as a controller would leave them) rather than created one request at a
time, so that 150,000 pods take seconds to build, not an hour; and ``churn``, which keeps
one of them changing."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import aiohttp
import kmock

from testbed.kube import Emulator

Obj = dict[str, Any]
NAMESPACE = "bench"
CREATED = "2026-11-01T00:00:00Z"
CHURN_EVERY_S = 1.0

NODES = kmock.resource("v1/nodes")
PODS = kmock.resource("v1/pods")
DEPLOYMENTS = kmock.resource("apps/v1/deployments")
DECLARED = [
    "v1/nodes",
    "v1/pods",
    "v1/secrets",
    "v1/persistentvolumeclaims",
    "apps/v1/deployments",
    "apps/v1/statefulsets",
    "apps/v1/daemonsets",
    "batch/v1/jobs",
    "batch/v1/cronjobs",
]


@dataclass(frozen=True)
class Shape:
    """How big a cluster is."""

    nodes: int
    deployments: int
    pods: int

    def __str__(self) -> str:
        return f"{self.nodes:,} nodes, {self.pods:,} pods in {self.deployments:,} deployments"


def node(name: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {"kubernetes.io/hostname": name, "zone": f"z{hash(name) % 3}"},
            "creationTimestamp": CREATED,
        },
        "spec": {},
        "status": {
            "allocatable": {"cpu": "32", "memory": "128Gi", "pods": "110"},
            "capacity": {"cpu": "32", "memory": "128Gi", "pods": "110"},
            "conditions": [{"type": "Ready", "status": "True"}],
            "addresses": [{"type": "Hostname", "address": name}],
            "nodeInfo": {
                "architecture": "amd64",
                "bootID": "0",
                "containerRuntimeVersion": "containerd://1.7.13",
                "kernelVersion": "6.1.0",
                "kubeProxyVersion": "v1.30.2",
                "kubeletVersion": "v1.30.2",
                "machineID": name,
                "operatingSystem": "linux",
                "osImage": "Debian GNU/Linux 12 (bookworm)",
                "systemUUID": name,
            },
        },
    }


def _container(name: str) -> Obj:
    return {
        "name": "main",
        "image": f"registry.example/{name}:1.0",
        "args": ["--port", "8080"],
        "env": [{"name": "APP", "value": name}],
        "ports": [{"containerPort": 8080, "protocol": "TCP"}],
        "resources": {
            "requests": {"cpu": "100m", "memory": "128Mi"},
            "limits": {"cpu": "500m", "memory": "256Mi"},
        },
    }


def deployment(name: str, replicas: int) -> Obj:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": name,
            "namespace": NAMESPACE,
            "labels": labels,
            "generation": 1,
            "creationTimestamp": CREATED,
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [_container(name)]},
            },
        },
        "status": {
            "observedGeneration": 1,
            "replicas": replicas,
            "updatedReplicas": replicas,
            "readyReplicas": replicas,
            "availableReplicas": replicas,
            "conditions": [{"type": "Available", "status": "True", "lastUpdateTime": CREATED}],
        },
    }


TEMPLATE_HASH = "5d8f7c9b4"


def pod_name(deployment_name: str, number: int) -> str:
    return f"{deployment_name}-{TEMPLATE_HASH}-{number:05d}"


def pod_names(shape: Shape) -> list[str]:
    """Every pod ``populate`` makes, one of each Deployment in turn (then the second of
    each, ...): changed in this order, consecutive changes land on different nodes."""
    per_deployment, extra = divmod(shape.pods, max(shape.deployments, 1))
    most = per_deployment + (1 if extra else 0)
    return [
        pod_name(f"svc-{d:05d}", r)
        for r in range(most)
        for d in range(shape.deployments)
        if r < per_deployment + (1 if d < extra else 0)
    ]


def pod(deployment_name: str, number: int, node_name: str) -> Obj:
    template_hash = TEMPLATE_HASH
    name = pod_name(deployment_name, number)
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": NAMESPACE,
            "labels": {"app": deployment_name, "pod-template-hash": template_hash},
            "ownerReferences": [
                {"kind": "ReplicaSet", "name": f"{deployment_name}-{template_hash}"}
            ],
            "creationTimestamp": CREATED,
        },
        "spec": {"nodeName": node_name, "containers": [_container(deployment_name)]},
        "status": {
            "phase": "Running",
            "podIP": f"10.{number // 65536 % 256}.{number // 256 % 256}.{number % 256}",
            "hostIP": "192.168.0.1",
            "startTime": CREATED,
            "containerStatuses": [
                {"name": "main", "ready": True, "restartCount": 0, "state": {"running": {}}}
            ],
        },
    }


def populate(emulator: Emulator, shape: Shape) -> None:
    """Fill an emulator as if a scheduler had spread the pods over the nodes."""
    for resource in DECLARED:
        emulator.resources[resource] = kmock.ResourceInfo()
    node_names = [f"node-{n:05d}" for n in range(shape.nodes)]
    for name in node_names:
        emulator.objects[NODES, None, name] = emulator.stamp(node(name))
    per_deployment, extra = divmod(shape.pods, max(shape.deployments, 1))
    placed = 0
    for d in range(shape.deployments):
        name = f"svc-{d:05d}"
        replicas = per_deployment + (1 if d < extra else 0)
        emulator.objects[DEPLOYMENTS, NAMESPACE, name] = emulator.stamp(deployment(name, replicas))
        for r in range(replicas):
            made = pod(name, r, node_names[placed % len(node_names)] if node_names else "")
            emulator.objects[PODS, NAMESPACE, made["metadata"]["name"]] = emulator.stamp(made)
            placed += 1


async def churn(url: str) -> None:
    """Scale one Deployment up and down through the API, as users do behind Asgard's back,
    so that the watch feeds, caches and event queues have work all along."""
    path = f"{url}/apis/apps/v1/namespaces/{NAMESPACE}/deployments/svc-00000"
    async with aiohttp.ClientSession() as session:
        replicas = 1
        while True:
            replicas = 3 - replicas  # 1, 2, 1, 2, ...
            body = {"spec": {"replicas": replicas}, "status": {"readyReplicas": replicas}}
            async with session.patch(
                path, json=body, headers={"Content-Type": "application/merge-patch+json"}
            ) as response:
                response.raise_for_status()
            await asyncio.sleep(CHURN_EVERY_S)
