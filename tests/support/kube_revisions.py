"""What workload controllers keep of the templates they ran, played by the tests.

The Deployment controller keeps a ReplicaSet per template, numbered by the
``deployment.kubernetes.io/revision`` annotation (a template run again takes the next
number) with ``deployment.kubernetes.io/desired-replicas``; the StatefulSet and DaemonSet
controllers keep a ControllerRevision per template. The garbage collector removes them
with their workload.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Protocol

Obj = dict[str, Any]
REVISION = "deployment.kubernetes.io/revision"
DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"


class Api(Protocol):
    """The API server, as the tests' controllers call it."""

    async def call(self, method: str, path: str, body: Any = None, **params: str) -> Obj: ...

    async def items(self, path: str, **params: str) -> list[Obj]: ...


def template_hash(template: Obj) -> str:
    return hashlib.sha256(json.dumps(template, sort_keys=True).encode()).hexdigest()[:10]


async def owned_by(api: Api, plural: str, kind: str, workload: Obj) -> list[Obj]:
    namespace, name = workload["metadata"]["namespace"], workload["metadata"]["name"]
    return [
        o
        for o in await api.items(f"/apis/apps/v1/namespaces/{namespace}/{plural}")
        if any(
            r.get("kind") == kind and r.get("name") == name
            for r in o["metadata"].get("ownerReferences") or []
        )
    ]


async def keep_replica_set(api: Api, deployment: Obj, pod_hash: str, desired: int) -> None:
    """The Deployment controller's part: the current template's ReplicaSet holds the
    newest revision and every replica; the others are kept, scaled to zero."""
    meta = deployment["metadata"]
    namespace, name = meta["namespace"], meta["name"]
    path = f"/apis/apps/v1/namespaces/{namespace}/replicasets"
    owned = await owned_by(api, "replicasets", "Deployment", deployment)
    revisions = [int(o["metadata"]["annotations"][REVISION]) for o in owned]
    current = next((o for o in owned if o["metadata"]["name"] == f"{name}-{pod_hash}"), None)
    revision = int(current["metadata"]["annotations"][REVISION]) if current else 0
    if revision != max(revisions, default=0) or current is None:
        revision = max(revisions, default=0) + 1
    template = json.loads(json.dumps(deployment["spec"]["template"]))
    template.setdefault("metadata", {}).setdefault("labels", {})["pod-template-hash"] = pod_hash
    annotations = {REVISION: str(revision), DESIRED_REPLICAS: str(desired)}
    if current is None:
        body = {
            "metadata": {
                "name": f"{name}-{pod_hash}",
                "namespace": namespace,
                "labels": template["metadata"]["labels"],
                "annotations": annotations,
                "ownerReferences": [
                    {
                        "apiVersion": "apps/v1",
                        "kind": "Deployment",
                        "name": name,
                        "uid": meta.get("uid", "x"),
                        "controller": True,
                    }
                ],
            },
            "spec": {
                "replicas": desired,
                "selector": {
                    "matchLabels": {
                        **deployment["spec"]["selector"]["matchLabels"],
                        "pod-template-hash": pod_hash,
                    }
                },
                "template": template,
            },
        }
        await api.call("POST", path, body)
    else:
        await api.call(
            "PATCH",
            f"{path}/{current['metadata']['name']}",
            {"metadata": {"annotations": annotations}, "spec": {"replicas": desired}},
        )
    for other in owned:
        if other is not current and other["spec"].get("replicas"):
            await api.call(
                "PATCH", f"{path}/{other['metadata']['name']}", {"spec": {"replicas": 0}}
            )
    if (meta.get("annotations") or {}).get(REVISION) != str(revision):
        await api.call(
            "PATCH",
            f"/apis/apps/v1/namespaces/{namespace}/deployments/{name}",
            {"metadata": {"annotations": {REVISION: str(revision)}}},
        )


async def keep_controller_revision(api: Api, kind: str, workload: Obj) -> str:
    """The StatefulSet and DaemonSet controllers' part: a ControllerRevision per
    template, the current one holding the newest number; its name."""
    meta = workload["metadata"]
    namespace, name = meta["namespace"], meta["name"]
    pod_hash = template_hash(workload["spec"]["template"])
    path = f"/apis/apps/v1/namespaces/{namespace}/controllerrevisions"
    owned = await owned_by(api, "controllerrevisions", kind, workload)
    newest = max((int(o.get("revision", 0)) for o in owned), default=0)
    current = next((o for o in owned if o["metadata"]["name"] == f"{name}-{pod_hash}"), None)
    if current is None:
        template = {**workload["spec"]["template"], "$patch": "replace"}
        await api.call(
            "POST",
            path,
            {
                "metadata": {
                    "name": f"{name}-{pod_hash}",
                    "namespace": namespace,
                    "labels": dict(workload["spec"]["selector"]["matchLabels"]),
                    "ownerReferences": [
                        {
                            "apiVersion": "apps/v1",
                            "kind": kind,
                            "name": name,
                            "uid": meta.get("uid", "x"),
                            "controller": True,
                        }
                    ],
                },
                "data": {"spec": {"template": template}},
                "revision": newest + 1,
            },
        )
    elif int(current.get("revision", 0)) != newest:
        await api.call("PATCH", f"{path}/{current['metadata']['name']}", {"revision": newest + 1})
    return f"{name}-{pod_hash}"


async def collect_revisions(api: Api, workloads: set[tuple[str, str, str]]) -> None:
    """ReplicaSets and ControllerRevisions whose workload (namespace, kind, name) is gone."""
    for plural in ("replicasets", "controllerrevisions"):
        for kept in await api.items(f"/apis/apps/v1/{plural}"):
            meta = kept["metadata"]
            refs = meta.get("ownerReferences") or []
            if refs and all(
                (meta["namespace"], r["kind"], r["name"]) not in workloads for r in refs
            ):
                await api.call(
                    "DELETE",
                    f"/apis/apps/v1/namespaces/{meta['namespace']}/{plural}/{meta['name']}",
                )
