"""The objects a one-time job is made of on Kubernetes, as pure functions.

A job is a ``batch/v1`` Job whose container runs as nobody (uid 65534), without
privilege escalation, with every capability dropped and no service account token.
When Asgard has a public URL, the job gets a Secret with a token scoped to it, an
init container that fetches its input zip from Asgard into ``/input``, and a volume
of its own for ``/output``, which a *collector* Job sends back once the job has ended
(``collector.py``). A workflow stage mounts folders of its workflow's claim instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Final

from asgard.backends.common import Json, Segments
from asgard.backends.contract import WorkspaceMount
from asgard.backends.kubernetes import names as N
from asgard.backends.kubernetes.converters import container_resources, env_list, owner_selector
from asgard.backends.kubernetes.job_status import ROLE_COLLECTOR
from asgard.models import JobSpec

NOBODY: Final = 65534
FETCH_INPUT: Final = (
    'wget -q -O /tmp/input.zip --header "Authorization: Bearer $ASGARD_TOKEN" "$ASGARD_URL"'
    " && unzip -o -q /tmp/input.zip -d /input && rm -f /tmp/input.zip"
)
SEND_OUTPUT: Final = (
    "tar -C /output -cf /tmp/output.tar . && wget -q -O /dev/null"
    ' --header "Authorization: Bearer $ASGARD_TOKEN" --header "Content-Type: application/x-tar"'
    ' --post-file /tmp/output.tar "$ASGARD_URL"'
)
LOCKED_DOWN: Final = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}


def jobs_path(namespace: str, name: str | None = None) -> Segments:
    base = ("apis", "batch", "v1", "namespaces", namespace, "jobs")
    return (*base, name) if name else base


def claims_path(namespace: str, name: str | None = None) -> Segments:
    base = ("api", "v1", "namespaces", namespace, "persistentvolumeclaims")
    return (*base, name) if name else base


def secrets_path(namespace: str, name: str | None = None) -> Segments:
    base = ("api", "v1", "namespaces", namespace, "secrets")
    return (*base, name) if name else base


def io_secret(job_id: str) -> str:
    return f"{job_id}-io"


def output_claim(job_id: str) -> str:
    return f"{job_id}-output"


def collector_name(job_id: str) -> str:
    return f"{job_id}-collect"


def owned_by(job: Json) -> list[Json]:
    """An owner reference to the job: what it owns goes when it goes."""
    meta = job["metadata"]
    return [
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "name": meta["name"],
            "uid": meta.get("uid", ""),
            "controller": False,
        }
    ]


def pod_security(*, non_root: bool = True) -> Json:
    context: Json = {"runAsUser": NOBODY, "runAsGroup": NOBODY, "fsGroup": NOBODY}
    if non_root:
        context = {"runAsNonRoot": True, **context, "seccompProfile": {"type": "RuntimeDefault"}}
    return context


def token_secret(namespace: str, job_id: str, name: str, token: str) -> Json:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {N.JOB_LABEL: job_id, N.MANAGED_BY: N.ASGARD},
        },
        "type": "Opaque",
        "stringData": {"token": token},
    }


def claim(
    namespace: str,
    name: str,
    labels: dict[str, str],
    *,
    size: str,
    storage_class: str | None,
    access_mode: str = "ReadWriteOnce",
) -> Json:
    spec: Json = {"accessModes": [access_mode], "resources": {"requests": {"storage": size}}}
    if storage_class:
        spec["storageClassName"] = storage_class
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {**labels, N.MANAGED_BY: N.ASGARD},
        },
        "spec": spec,
    }


def token_env(secret: str) -> Json:
    return {"name": "ASGARD_TOKEN", "valueFrom": {"secretKeyRef": {"name": secret, "key": "token"}}}


def main_container(spec: JobSpec) -> Json:
    main: Json = {
        "name": "job",
        "image": spec.image,
        "env": env_list(spec.env),
        "resources": container_resources(spec.resources),
        "securityContext": LOCKED_DOWN,
        "volumeMounts": [
            {"name": "input", "mountPath": "/input"},
            {"name": "output", "mountPath": "/output"},
        ],
    }
    if spec.command:
        main["command"] = spec.command
    if spec.args:
        main["args"] = spec.args
    return main


def fetch_input(helper_image: str, url: str, job_id: str) -> Json:
    """The init container that unpacks the job's input zip, fetched from Asgard."""
    return {
        "name": "fetch-input",
        "image": helper_image,
        "command": ["sh", "-c", FETCH_INPUT],
        "env": [{"name": "ASGARD_URL", "value": url}, token_env(io_secret(job_id))],
        "securityContext": LOCKED_DOWN,
        "volumeMounts": [{"name": "input", "mountPath": "/input"}],
    }


def workspace_volumes(
    mount: WorkspaceMount, helper_image: str
) -> tuple[list[Json], list[Json], Json]:
    """A workflow stage: ``/input`` and ``/output`` are folders (``subPath``) of the
    workflow's claim; the pod's volumes, the job's mounts, and an init container that
    makes the folders first. The kubelet would make missing folders as root, where a job
    running as nobody cannot write; the init container makes them as nobody, in the
    volume the pod's ``fsGroup`` lets it write to."""
    folders = [f for f in (mount.input_dir, mount.output_dir) if f is not None]
    prepare = {
        "name": "prepare-folders",
        "image": helper_image,
        "command": ["mkdir", "-p", *(f"/workspace/{f}" for f in folders)],
        "securityContext": LOCKED_DOWN,
        "volumeMounts": [{"name": "workspace", "mountPath": "/workspace"}],
    }
    volumes: list[Json] = [
        {
            "name": "workspace",
            "persistentVolumeClaim": {"claimName": N.workspace_claim(mount.workspace)},
        }
    ]
    mounts: list[Json] = [
        {"name": "workspace", "mountPath": "/output", "subPath": mount.output_dir}
    ]
    if mount.input_dir is None:
        volumes.append({"name": "input", "emptyDir": {}})
        mounts.insert(0, {"name": "input", "mountPath": "/input"})
    else:
        mounts.insert(
            0,
            {
                "name": "workspace",
                "mountPath": "/input",
                "subPath": mount.input_dir,
                "readOnly": True,
            },
        )
    return volumes, mounts, prepare


@dataclass(frozen=True)
class JobPlan:
    """Everything a job's manifest depends on besides its spec."""

    job_id: str
    namespace: str
    helper_image: str
    retention_s: float
    input_url: str | None
    """Where the init container fetches the input from; None: the job takes no input."""
    keeps_output: bool
    """Whether ``/output`` is a claim of its own, for the collector to send back."""
    mount: WorkspaceMount | None = None
    owner: str | None = None
    """The account's owner: the job runs on that owner's nodes alone, as its apps do."""


def job_manifest(spec: JobSpec, plan: JobPlan) -> Json:
    main = main_container(spec)
    init: list[Json] = []
    if plan.input_url is not None:
        init.append(fetch_input(plan.helper_image, plan.input_url, plan.job_id))
    volumes: list[Json] = [
        {"name": "input", "emptyDir": {}},
        {"name": "output", "persistentVolumeClaim": {"claimName": output_claim(plan.job_id)}}
        if plan.keeps_output
        else {"name": "output", "emptyDir": {}},
    ]
    annotations = {N.RETRIES_ANNOTATION: str(spec.retries)}
    if plan.mount is not None:
        volumes, main["volumeMounts"], prepare = workspace_volumes(plan.mount, plan.helper_image)
        init.insert(0, prepare)
        annotations[N.WORKSPACE_ANNOTATION] = N.workspace_claim(plan.mount.workspace)
        annotations[N.OUTPUT_DIR_ANNOTATION] = plan.mount.output_dir
    job_spec: Json = {
        "backoffLimit": spec.retries,
        "ttlSecondsAfterFinished": int(plan.retention_s),
        "template": {
            "metadata": {"labels": {N.JOB_LABEL: plan.job_id, N.MANAGED_BY: N.ASGARD}},
            "spec": {
                "restartPolicy": "Never",
                "automountServiceAccountToken": False,
                "securityContext": pod_security(),
                **owner_selector(plan.owner),
                "initContainers": init,
                "containers": [main],
                "volumes": volumes,
            },
        },
    }
    if spec.timeout_s is not None:
        job_spec["activeDeadlineSeconds"] = math.ceil(spec.timeout_s)
        annotations[N.TIMEOUT_ANNOTATION] = f"{spec.timeout_s:g}"
    labels = {
        **N.user_labels(spec.labels),
        N.JOB_LABEL: plan.job_id,
        N.JOB_NAME_LABEL: spec.name,
        N.MANAGED_BY: N.ASGARD,
    }
    meta = {"name": plan.job_id, "namespace": plan.namespace, "labels": labels}
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {**meta, "annotations": annotations},
        "spec": job_spec,
    }


def collector_manifest(job: Json, helper_image: str, url: str, secret: str) -> Json:
    """The Job that sends a finished job's ``/output`` (its claim, or its folder of the
    workflow's claim) to Asgard, as a tar."""
    namespace, job_id = job["metadata"]["namespace"], job["metadata"]["name"]
    annotations = job["metadata"].get("annotations") or {}
    output_mount: Json = {"name": "output", "mountPath": "/output", "readOnly": True}
    claim_name = annotations.get(N.WORKSPACE_ANNOTATION)
    if claim_name:  # a workflow stage wrote to a folder of its workflow's volume
        output_mount["subPath"] = annotations.get(N.OUTPUT_DIR_ANNOTATION, "")
    else:
        claim_name = output_claim(job_id)
    container: dict[str, Any] = {
        "name": "collect",
        "image": helper_image,
        "command": ["sh", "-c", SEND_OUTPUT],
        "env": [{"name": "ASGARD_URL", "value": url}, token_env(secret)],
        "securityContext": LOCKED_DOWN,
        "volumeMounts": [output_mount],
    }
    role = {N.JOB_LABEL: job_id, N.ROLE_LABEL: ROLE_COLLECTOR}
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": collector_name(job_id),
            "namespace": namespace,
            "labels": {**role, N.MANAGED_BY: N.ASGARD},
            "ownerReferences": owned_by(job),
        },
        "spec": {
            "backoffLimit": 3,
            "template": {
                "metadata": {"labels": role},
                "spec": {
                    "restartPolicy": "Never",
                    "automountServiceAccountToken": False,
                    "securityContext": pod_security(non_root=False),
                    "containers": [container],
                    "volumes": [
                        {"name": "output", "persistentVolumeClaim": {"claimName": claim_name}}
                    ],
                },
            },
        },
    }
