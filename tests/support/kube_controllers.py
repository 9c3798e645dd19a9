"""What the controller manager and the kubelets would do, played by the tests.

The emulator runs no controllers, so the tests do their part, through the same
HTTP API any controller uses (so watches see it): Deployments and StatefulSets
get the pods their replicas and template ask for (a changed template, e.g. a
restart annotation, replaces them), workload statuses follow, pods of deleted
workloads are collected, and Jobs end the way a test says they should.
"""

from __future__ import annotations

import datetime
import json
import secrets
from dataclasses import dataclass
from typing import Any

import aiohttp

from testbed.kube import Emulator
from tests.support.kube_revisions import (
    collect_revisions,
    keep_controller_revision,
    keep_replica_set,
    template_hash,
)

Obj = dict[str, Any]
NOW = "2026-11-24T12:00:00Z"
"""A fixed time for what no test reads the age of (pods' and workloads' timestamps)."""


def now() -> str:
    """The time as the API server writes it. A Job's times are this: the reconciler keeps a
    finished job for ``job_retention_s`` after the ``completionTime`` the cluster gives, so
    a Job stamped with a fixed past date is expired (and deleted) once that is a week old."""
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


RESOURCES = [
    "v1/nodes",
    "v1/pods",
    "v1/secrets",
    "v1/persistentvolumeclaims",
    "apps/v1/deployments",
    "apps/v1/statefulsets",
    "apps/v1/daemonsets",
    "apps/v1/replicasets",
    "apps/v1/controllerrevisions",
    "batch/v1/jobs",
    "batch/v1/cronjobs",
]


@dataclass
class Controllers:
    emulator: Emulator
    url: str
    session: aiohttp.ClientSession

    async def call(self, method: str, path: str, body: Any = None, **params: str) -> Obj:
        headers = {"Content-Type": "application/merge-patch+json"} if method == "PATCH" else {}
        async with self.session.request(
            method, self.url + path, json=body, params=params, headers=headers
        ) as r:
            text = await r.text()
            assert r.status < 400, f"{method} {path}: {r.status} {text}"
            return dict(json.loads(text)) if text else {}

    async def items(self, path: str, **params: str) -> list[Obj]:
        return list((await self.call("GET", path, **params)).get("items") or [])

    async def add_node(
        self,
        name: str,
        *,
        cpu: str = "4",
        memory: str = "8Gi",
        labels: dict[str, str] | None = None,
        ready: bool = True,
    ) -> None:
        await self.call(
            "POST",
            "/api/v1/nodes",
            {
                "metadata": {
                    "name": name,
                    "labels": {"kubernetes.io/hostname": name, **(labels or {})},
                },
                "spec": {},
                "status": {
                    "allocatable": {
                        "cpu": cpu,
                        "memory": memory,
                        "ephemeral-storage": "100Gi",
                        "pods": "110",
                    },
                    "capacity": {"cpu": cpu, "memory": memory},
                    "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
                    "nodeInfo": {"kubeletVersion": "v1.30.2"},
                },
            },
        )

    async def _node_for_pod(self) -> str:
        nodes = await self.items("/api/v1/nodes")
        return str(sorted(n["metadata"]["name"] for n in nodes)[0]) if nodes else "node-1"

    async def reconcile(self) -> None:
        for kind, plural in (("Deployment", "deployments"), ("StatefulSet", "statefulsets")):
            for workload in await self.items(f"/apis/apps/v1/{plural}"):
                await self._reconcile_workload(kind, plural, workload)
        for daemon_set in await self.items("/apis/apps/v1/daemonsets"):
            await keep_controller_revision(self, "DaemonSet", daemon_set)
        await self._collect_garbage()

    async def _owned_pods(self, workload: Obj) -> list[Obj]:
        namespace = workload["metadata"]["namespace"]
        selector = ",".join(
            f"{k}={v}" for k, v in workload["spec"]["selector"]["matchLabels"].items()
        )
        return await self.items(f"/api/v1/namespaces/{namespace}/pods", labelSelector=selector)

    async def _reconcile_workload(self, kind: str, plural: str, workload: Obj) -> None:
        meta, spec = workload["metadata"], workload["spec"]
        namespace, name = meta["namespace"], meta["name"]
        desired = int(spec.get("replicas", 1))
        current_hash = template_hash(spec["template"])
        pods = await self._owned_pods(workload)
        stale = [
            p for p in pods if p["metadata"]["labels"].get("pod-template-hash") != current_hash
        ]
        fresh = [p for p in pods if p not in stale]
        for pod in stale + fresh[desired:]:
            await self.call(
                "DELETE", f"/api/v1/namespaces/{namespace}/pods/{pod['metadata']['name']}"
            )
        revision = current_hash
        if kind == "Deployment":
            await keep_replica_set(self, workload, current_hash, desired)
        else:
            revision = await keep_controller_revision(self, kind, workload)
        node = await self._node_for_pod()
        for index in range(len(fresh[:desired]), desired):
            await self.call(
                "POST",
                f"/api/v1/namespaces/{namespace}/pods",
                self._pod(kind, workload, current_hash, node, index),
            )
        status = {
            "observedGeneration": meta.get("generation", 1),
            "replicas": desired,
            "readyReplicas": desired,
            "availableReplicas": desired,
            "updatedReplicas": desired,
            "conditions": [{"type": "Available", "status": "True", "lastUpdateTime": NOW}],
        }
        if kind == "StatefulSet":
            status["currentRevision"] = status["updateRevision"] = revision
        await self.call(
            "PATCH",
            f"/apis/apps/v1/namespaces/{namespace}/{plural}/{name}/status",
            {"status": status},
        )

    def _pod(self, kind: str, workload: Obj, pod_hash: str, node: str, index: int) -> Obj:
        meta = workload["metadata"]
        template = workload["spec"]["template"]
        if kind == "Deployment":
            owner = {"kind": "ReplicaSet", "name": f"{meta['name']}-{pod_hash}"}
            name = f"{meta['name']}-{pod_hash}-{secrets.token_hex(3)}"
        else:
            owner = {"kind": "StatefulSet", "name": meta["name"]}
            name = f"{meta['name']}-{index}"
        containers = template["spec"]["containers"]
        return {
            "metadata": {
                "name": name,
                "namespace": meta["namespace"],
                "labels": {
                    **(template.get("metadata") or {}).get("labels", {}),
                    "pod-template-hash": pod_hash,
                },
                "ownerReferences": [
                    {"apiVersion": "apps/v1", **owner, "uid": "x", "controller": True}
                ],
            },
            "spec": {**template["spec"], "nodeName": node},
            "status": {
                "phase": "Running",
                "startTime": NOW,
                "hostIP": "10.0.0.1",
                "containerStatuses": [
                    {"name": c["name"], "ready": True, "state": {"running": {"startedAt": NOW}}}
                    for c in containers
                ],
            },
        }

    async def _collect_garbage(self) -> None:
        """Pods whose workload is gone go too, as the garbage collector would do."""
        workloads = {
            (w["metadata"]["namespace"], kind, w["metadata"]["name"])
            for kind, plural in (("Deployment", "deployments"), ("StatefulSet", "statefulsets"))
            for w in await self.items(f"/apis/apps/v1/{plural}")
        }
        jobs = {
            (j["metadata"]["namespace"], j["metadata"]["name"])
            for j in await self.items("/apis/batch/v1/jobs")
        }
        for pod in await self.items("/api/v1/pods"):
            meta = pod["metadata"]
            namespace = meta["namespace"]
            job = (meta.get("labels") or {}).get("job-name")
            if job is not None:
                if (namespace, job) not in jobs:
                    await self.call("DELETE", f"/api/v1/namespaces/{namespace}/pods/{meta['name']}")
                continue
            for ref in meta.get("ownerReferences") or []:
                if ref["kind"] == "ReplicaSet":
                    owner = (
                        "Deployment",
                        ref["name"][: -len(meta["labels"]["pod-template-hash"]) - 1],
                    )
                else:
                    owner = (ref["kind"], ref["name"])
                if (namespace, *owner) not in workloads:
                    await self.call("DELETE", f"/api/v1/namespaces/{namespace}/pods/{meta['name']}")
        daemon_sets = {
            (d["metadata"]["namespace"], "DaemonSet", d["metadata"]["name"])
            for d in await self.items("/apis/apps/v1/daemonsets")
        }
        await collect_revisions(self, workloads | daemon_sets)

    async def end_job(
        self,
        namespace: str,
        name: str,
        exit_code: int,
        *,
        oom: bool = False,
        at: str | None = None,
    ) -> None:
        """The Job's pod ran and exited with ``exit_code``; the Job controller says so. It
        ended ``at`` (the Job's ``completionTime``, or its failure's time): now, unless told."""
        job = await self.call("GET", f"/apis/batch/v1/namespaces/{namespace}/jobs/{name}")
        if (job.get("status") or {}).get("conditions"):
            return
        ended = at or now()
        started = min((job.get("status") or {}).get("startTime") or ended, ended)
        pod_name = f"{name}-{secrets.token_hex(3)}"
        terminated = {
            "exitCode": exit_code,
            "reason": "OOMKilled" if oom else ("Completed" if exit_code == 0 else "Error"),
        }
        await self.call(
            "POST",
            f"/api/v1/namespaces/{namespace}/pods",
            {
                "metadata": {
                    "name": pod_name,
                    "namespace": namespace,
                    "labels": {"job-name": name},
                },
                "spec": job["spec"]["template"]["spec"],
                "status": {
                    "phase": "Succeeded" if exit_code == 0 else "Failed",
                    "startTime": started,
                    "containerStatuses": [{"name": "job", "state": {"terminated": terminated}}],
                },
            },
        )
        if exit_code == 0:
            status = {
                "succeeded": 1,
                "startTime": started,
                "completionTime": ended,
                "conditions": [{"type": "Complete", "status": "True", "lastTransitionTime": ended}],
            }
        else:
            status = {
                "failed": 1 + int(job["spec"].get("backoffLimit", 0)),
                "startTime": started,
                "conditions": [
                    {
                        "type": "Failed",
                        "status": "True",
                        "reason": "BackoffLimitExceeded",
                        "lastTransitionTime": ended,
                    }
                ],
            }
        await self.call(
            "PATCH", f"/apis/batch/v1/namespaces/{namespace}/jobs/{name}/status", {"status": status}
        )

    async def run_job(self, namespace: str, name: str) -> None:
        """The Job is running: its pod has started."""
        await self.call(
            "PATCH",
            f"/apis/batch/v1/namespaces/{namespace}/jobs/{name}/status",
            {"status": {"active": 1, "startTime": now()}},
        )
