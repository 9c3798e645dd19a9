"""The versions of a workload, as its controller keeps them, and going back to one.

A Deployment's controller keeps a ReplicaSet per pod template it ran, numbered by the
``deployment.kubernetes.io/revision`` annotation (a template run again takes the next
number, so each template is listed once, at its latest run); StatefulSets and DaemonSets
keep ControllerRevisions with a ``revision`` number. A version's id is that number.
Converters here are pure; ``Revisions`` reads and writes through the client.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Final

from asgard.backends.common import Json, parse_time
from asgard.backends.kubernetes import names as N
from asgard.backends.kubernetes.client import MERGE_PATCH, KubeClient
from asgard.backends.kubernetes.config import BASELINE, Lockdown
from asgard.backends.kubernetes.converters import app_pod, locked_down, workload_to_app
from asgard.backends.kubernetes.workloads import workload_path
from asgard.models import Account, AppSpec, AppVersion
from asgard.models.version import version_of

__all__ = [
    "REVISION",
    "Kept",
    "Revisions",
    "controller_revision_kept",
    "merge_diff",
    "replica_set_kept",
    "revision_template",
    "template_problem",
    "template_version",
]

REVISION: Final = "deployment.kubernetes.io/revision"
DESIRED_REPLICAS: Final = "deployment.kubernetes.io/desired-replicas"
POD_TEMPLATE_HASH: Final = "pod-template-hash"


def _selector(workload: Json) -> dict[str, str]:
    return dict(((workload.get("spec") or {}).get("selector") or {}).get("matchLabels") or {})


def revision_template(template: Json) -> Json:
    """A kept template as the workload would hold it: without the hash label its
    controller adds, or the ``$patch`` directive a ControllerRevision's data carries."""
    found = copy.deepcopy(template)
    found.pop("$patch", None)
    labels = (found.get("metadata") or {}).get("labels")
    if labels:
        labels.pop(POD_TEMPLATE_HASH, None)
    return found


def template_problem(template: Json) -> str | None:
    """Why an AppSpec cannot say what this pod template runs, or None."""
    spec = template.get("spec") or {}
    containers = spec.get("containers") or []
    if len(containers) != 1:
        return f"its pods run {len(containers)} containers; an app runs one"
    if spec.get("initContainers"):
        return "its pods have init containers, which an app cannot say"
    if spec.get("volumes"):
        return "its pods mount volumes, which an app cannot say"
    taken = [e.get("name") for e in containers[0].get("env") or [] if "valueFrom" in e]
    if taken:
        return f"its environment takes {', '.join(map(str, taken))} from elsewhere (valueFrom)"
    return None


def template_version(
    kind: str,
    workload: Json,
    template: Json,
    *,
    revision: str,
    replicas: int,
    created_at: str | None,
    cluster: str,
) -> AppVersion:
    """The version one kept template of the workload stands for. Its labels are the
    template's (less the selector's), which Asgard keeps equal to the workload's own."""
    selector = _selector(workload)
    labels = {
        k: v
        for k, v in ((template.get("metadata") or {}).get("labels") or {}).items()
        if k not in selector and k != POD_TEMPLATE_HASH
    }
    as_run = {
        **workload,
        "metadata": {**(workload.get("metadata") or {}), "labels": labels},
        "spec": {**(workload.get("spec") or {}), "replicas": replicas, "template": template},
    }
    app = workload_to_app(kind, as_run, cluster=cluster)
    return version_of(
        app,
        id=revision,
        created_at=parse_time(created_at),
        unsupported=template_problem(template),
    )


def spec_template(
    workload: Json, account: Account, spec: AppSpec, *, lockdown: Lockdown | None = BASELINE
) -> Json:
    """The pod template that runs ``spec``, under the workload's own selector."""
    current = ((workload.get("spec") or {}).get("template") or {}).get("metadata") or {}
    own = {k: v for k, v in (current.get("labels") or {}).items() if k.startswith(N.OWN_PREFIXES)}
    labels = {**N.user_labels(spec.labels), **own, **_selector(workload)}
    return {
        "metadata": {"labels": labels},
        "spec": app_pod(account, spec, lockdown=lockdown),
    }


def merge_diff(current: Any, target: Any) -> Any:
    """The JSON merge patch (RFC 7386) that turns ``current`` into ``target``: what a PUT
    would do, sent as a patch so that a concurrent status write is not overwritten."""
    if not isinstance(current, dict) or not isinstance(target, dict):
        return target
    patch: dict[str, Any] = {k: None for k in current if k not in target}
    for key, value in target.items():
        if key not in current:
            patch[key] = value
        elif current[key] != value:
            patch[key] = merge_diff(current[key], value)
    return patch


@dataclass(frozen=True)
class Kept:
    """One template a workload's controller keeps."""

    number: int
    template: Json
    created_at: str | None
    replicas: int | None
    """What the Deployment wanted while it ran (``desired-replicas``), where kept."""


def replica_set_kept(replica_set: Json) -> Kept | None:
    meta = replica_set.get("metadata") or {}
    annotations = meta.get("annotations") or {}
    if REVISION not in annotations:
        return None
    wanted = annotations.get(DESIRED_REPLICAS)
    return Kept(
        number=int(annotations[REVISION]),
        template=revision_template(((replica_set.get("spec") or {}).get("template")) or {}),
        created_at=meta.get("creationTimestamp"),
        replicas=int(wanted) if wanted is not None else None,
    )


def controller_revision_kept(revision: Json) -> Kept | None:
    template = (((revision.get("data") or {}).get("spec")) or {}).get("template")
    if template is None:
        return None
    return Kept(
        number=int(revision.get("revision", 0)),
        template=revision_template(template),
        created_at=(revision.get("metadata") or {}).get("creationTimestamp"),
        replicas=None,
    )


class Revisions:
    def __init__(self, client: KubeClient) -> None:
        self.client = client
        self.cluster = client.cluster

    async def _owned(self, namespace: str, plural: str, kind: str, workload: Json) -> list[Json]:
        name = workload["metadata"]["name"]
        selector = ",".join(f"{k}={v}" for k, v in sorted(_selector(workload).items()))
        found, _ = await self.client.list_all(
            ("apis", "apps", "v1", "namespaces", namespace, plural),
            what=f"list {plural}",
            params={"labelSelector": selector},
        )
        return [
            o
            for o in found
            if any(
                r.get("kind") == kind and r.get("name") == name
                for r in (o.get("metadata") or {}).get("ownerReferences") or []
            )
        ]

    async def kept(self, account: Account, kind: str, workload: Json) -> list[Kept]:
        """Newest first."""
        if kind == "Deployment":
            owned = await self._owned(account.namespace, "replicasets", kind, workload)
            found = [replica_set_kept(o) for o in owned]
        else:
            owned = await self._owned(account.namespace, "controllerrevisions", kind, workload)
            found = [controller_revision_kept(o) for o in owned]
        return sorted((k for k in found if k is not None), key=lambda k: -k.number)

    async def versions(self, account: Account, kind: str, workload: Json) -> list[AppVersion]:
        """Newest first; the workload's own alone while its controller has kept nothing
        (it has not acted on the workload yet)."""
        kept = await self.kept(account, kind, workload)
        if not kept:
            return [version_of(workload_to_app(kind, workload, cluster=self.cluster))]
        desired = int((workload.get("spec") or {}).get("replicas", 1))
        return [
            template_version(
                kind,
                workload,
                k.template,
                revision=str(k.number),
                replicas=desired if i == 0 or k.replicas is None else k.replicas,
                created_at=k.created_at,
                cluster=self.cluster,
            )
            for i, k in enumerate(kept)
        ]

    async def roll_back(
        self, account: Account, kind: str, workload: Json, version: AppVersion
    ) -> None:
        """Put the version's template back (the one the controller keeps, where the id
        names one: exactly what ran), its count and its labels, as ``kubectl rollout undo``
        does for the template."""
        kept = {str(k.number): k for k in await self.kept(account, kind, workload)}
        lockdown = self.client.config.lockdown()
        if version.id in kept:
            template = kept[version.id].template
            if lockdown is not None:  # a version from before the lockdown comes back under it
                template = {**template, "spec": locked_down(template.get("spec") or {}, lockdown)}
        else:
            template = spec_template(workload, account, version.spec, lockdown=lockdown)
        meta = workload.get("metadata") or {}
        own = {k: v for k, v in (meta.get("labels") or {}).items() if k.startswith(N.OWN_PREFIXES)}
        target = {
            "metadata": {"labels": {**N.user_labels(version.spec.labels), **own}},
            "spec": {"replicas": version.spec.instances, "template": template},
        }
        current = {
            "metadata": {"labels": meta.get("labels") or {}},
            "spec": {
                "replicas": (workload.get("spec") or {}).get("replicas"),
                "template": (workload.get("spec") or {}).get("template") or {},
            },
        }
        await self.client.request(
            "PATCH",
            workload_path(account.namespace, kind, meta["name"]),
            what=f"roll back app {version.spec.id}",
            body=merge_diff(current, target),
            content_type=MERGE_PATCH,
        )
