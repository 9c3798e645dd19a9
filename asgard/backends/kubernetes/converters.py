"""Kubernetes objects <-> Asgard's domain models. Pure functions, no I/O."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

from asgard.backends.common import Json, parse_time
from asgard.backends.kubernetes import names as N
from asgard.backends.kubernetes.config import BASELINE, Lockdown
from asgard.backends.kubernetes.quantities import (
    cpu_cores,
    cpu_quantity,
    mebibytes,
    memory_quantity,
)
from asgard.backends.safety import APP_CAPABILITIES
from asgard.models import (
    Account,
    Agent,
    App,
    AppInstances,
    AppSpec,
    Port,
    ResourceLimits,
    Resources,
)
from asgard.models.app import AppStatus, split_constraint
from asgard.models.task import TaskState

AGENT_TYPE = "KUBERNETES"
GPU_RESOURCES = ("nvidia.com/gpu", "amd.com/gpu")


def _meta(obj: Json) -> Json:
    return obj.get("metadata") or {}


# agents


def node_to_agent(node: Json, *, cluster: str, used: Resources, total_apps: int) -> Agent:
    meta, spec, status = _meta(node), node.get("spec") or {}, node.get("status") or {}
    allocatable = status.get("allocatable") or {}
    ready = any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in status.get("conditions") or []
    )
    return Agent(
        id=meta["name"],
        cluster=cluster,
        type=AGENT_TYPE,
        hostname=(meta.get("labels") or {}).get("kubernetes.io/hostname", meta["name"]),
        active=ready and not spec.get("unschedulable", False),
        version=(status.get("nodeInfo") or {}).get("kubeletVersion"),
        attributes={k: str(v) for k, v in (meta.get("labels") or {}).items()},
        resources=Resources(
            cpus=cpu_cores(allocatable.get("cpu")),
            mem=mebibytes(allocatable.get("memory")),
            disk=mebibytes(allocatable.get("ephemeral-storage")),
            gpus=sum(cpu_cores(allocatable.get(g)) for g in GPU_RESOURCES),
        ),
        used_resources=used,
        total_apps=total_apps,
    )


# workloads and pods


def owning_workload(pod: Json) -> tuple[str, str] | None:
    """(kind, name) of the Deployment, StatefulSet or DaemonSet that owns a pod.

    A Deployment owns its pods through a ReplicaSet named ``<deployment>-<pod-template-hash>``."""
    for ref in _meta(pod).get("ownerReferences") or []:
        kind, name = ref.get("kind"), ref.get("name", "")
        if kind == "ReplicaSet":
            template_hash = (_meta(pod).get("labels") or {}).get("pod-template-hash")
            if template_hash and name.endswith(f"-{template_hash}"):
                return "Deployment", name[: -len(template_hash) - 1]
            return None
        if kind in ("StatefulSet", "DaemonSet"):
            return kind, name
    return None


def pod_state(pod: Json) -> tuple[TaskState, str | None]:
    status = pod.get("status") or {}
    phase = status.get("phase", "Pending")
    reasons = [
        (c.get("state") or {}).get("waiting", {}).get("reason")
        for c in status.get("containerStatuses") or []
    ]
    reason = next((r for r in reasons if r), None)
    if _meta(pod).get("deletionTimestamp"):
        return "killed", "terminating"
    if phase == "Running":
        if reason in ("CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull"):
            return "failed", reason
        return "running", None
    if phase == "Succeeded":
        return "finished", None
    if phase == "Failed":
        return "failed", status.get("reason") or status.get("message")
    return "staging", reason or status.get("reason")


def _main_container(workload: Json) -> Json:
    containers = (((workload.get("spec") or {}).get("template") or {}).get("spec") or {}).get(
        "containers"
    ) or [{}]
    main: Json = containers[0]
    return main


def _limits(container: Json) -> ResourceLimits:
    resources = container.get("resources") or {}
    allot = resources.get("limits") or resources.get("requests") or {}
    return ResourceLimits(
        cpus=cpu_cores(allot.get("cpu")) or None, mem=mebibytes(allot.get("memory")) or None
    )


def _constraints(workload: Json) -> list[str]:
    pod_spec = ((workload.get("spec") or {}).get("template") or {}).get("spec") or {}
    found = [f"{k}=={v}" for k, v in sorted((pod_spec.get("nodeSelector") or {}).items())]
    affinity = ((pod_spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    ) or {}
    for term in affinity.get("nodeSelectorTerms") or []:
        for expression in term.get("matchExpressions") or []:
            if expression.get("operator") == "NotIn":
                found += [f"{expression['key']}!={v}" for v in expression.get("values") or []]
    return found


def workload_status(kind: str, workload: Json) -> tuple[AppStatus, AppInstances]:
    meta, spec, status = _meta(workload), workload.get("spec") or {}, workload.get("status") or {}
    if kind == "DaemonSet":
        desired = int(status.get("desiredNumberScheduled") or 0)
        running = int(status.get("numberAvailable") or status.get("numberReady") or 0)
        ready = int(status.get("numberReady") or 0)
        updating = int(status.get("updatedNumberScheduled") or desired) < desired
    else:
        desired = int(spec.get("replicas", 1))
        running = int(status.get("availableReplicas") or status.get("readyReplicas") or 0)
        ready = int(status.get("readyReplicas") or 0)
        updated = int(status.get("updatedReplicas") or (running if kind == "Deployment" else 0))
        updating = updated < desired or (
            kind == "StatefulSet" and status.get("currentRevision") != status.get("updateRevision")
        )
    stale = int(status.get("observedGeneration") or 0) < int(meta.get("generation") or 0)
    conditions = {c.get("type"): c for c in status.get("conditions") or []}
    progressing = conditions.get("Progressing") or {}
    instances = AppInstances(desired=desired, running=running, healthy=ready)
    if desired == 0:
        return "suspended", instances
    if progressing.get("reason") == "ProgressDeadlineExceeded":
        return "failed", instances
    if (conditions.get("ReplicaFailure") or {}).get("status") == "True":
        return "failed", instances
    if stale or updating or running < desired:
        return "deploying", instances
    return "running", instances


def workload_to_app(kind: str, workload: Json, *, cluster: str) -> App:
    meta = _meta(workload)
    container = _main_container(workload)
    status, instances = workload_status(kind, workload)
    return App(
        cluster=cluster,
        id=N.app_id_of(workload),
        type=AGENT_TYPE,
        image=container.get("image", ""),
        cmd=container.get("command") or None,
        args=container.get("args") or None,
        env={e["name"]: str(e.get("value", "")) for e in container.get("env") or [] if "name" in e},
        labels=N.user_labels(meta.get("labels")),
        resources=_limits(container),
        ports=[
            Port(
                container_port=int(p["containerPort"]),
                protocol="udp" if str(p.get("protocol", "TCP")).upper() == "UDP" else "tcp",
                published_port=int(p["hostPort"]) if p.get("hostPort") else None,
            )
            for p in container.get("ports") or []
            if p.get("containerPort")
        ],
        constraints=_constraints(workload),
        status=status,
        instances=instances,
        created_at=parse_time(meta.get("creationTimestamp")),
        updated_at=parse_time(
            max(
                (
                    c.get("lastUpdateTime") or ""
                    for c in (workload.get("status") or {}).get("conditions") or []
                ),
                default=None,
            )
            or meta.get("creationTimestamp")
        ),
    )


def selector_of(workload: Json) -> str:
    """The workload's own label selector, as a query string."""
    labels = (((workload.get("spec") or {}).get("selector") or {}).get("matchLabels")) or {}
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


# building


def container_resources(resources: ResourceLimits) -> dict[str, Any]:
    allot: dict[str, str] = {}
    if resources.cpus:
        allot["cpu"] = cpu_quantity(resources.cpus)
    if resources.mem:
        allot["memory"] = memory_quantity(resources.mem)
    return {"requests": dict(allot), "limits": dict(allot)} if allot else {}


def env_list(env: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"name": k, "value": v} for k, v in sorted(env.items())]


def owner_selector(owner: str | None) -> dict[str, Any]:
    """A pod's node selector for an account's owner: its work runs on its own nodes alone.
    Jobs and scheduled jobs take it as apps do (``placement``)."""
    return {"nodeSelector": {"owner": owner}} if owner is not None else {}


def placement(account: Account, constraints: Iterable[str]) -> dict[str, Any]:
    """Node selector for ``==``, node affinity NotIn for ``!=``; the account's owner is forced."""
    selector: dict[str, str] = {}
    excluded: list[dict[str, Any]] = []
    for constraint in constraints:
        attribute, op, value = split_constraint(constraint)
        if op == "==":
            selector[attribute] = value
        else:
            excluded.append({"key": attribute, "operator": "NotIn", "values": [value]})
    if account.owner is not None:
        selector["owner"] = account.owner
    found: dict[str, Any] = {"nodeSelector": selector}
    if excluded:
        found["affinity"] = {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [{"matchExpressions": excluded}]
                }
            }
        }
    return found


RUNTIME_DEFAULT: Final = {"type": "RuntimeDefault"}


def locked_down(pod: Json, lockdown: Lockdown | None = None) -> Json:
    """An app's pod spec under Pod Security "baseline" and more: the runtime's seccomp
    profile, no privilege escalation, every capability dropped but ``APP_CAPABILITIES``,
    no service account token unless the cluster entry asks. No uid is forced: images
    expect to start as their own user (often root, then changing), and "restricted" would
    stop most of them. A workload's own settings that are stricter (runAsNonRoot, a user)
    are kept."""
    containers = [
        {
            **c,
            "securityContext": {
                **(c.get("securityContext") or {}),
                "allowPrivilegeEscalation": False,
                "privileged": False,
                "capabilities": {"drop": ["ALL"], "add": list(APP_CAPABILITIES)},
            },
        }
        for c in pod.get("containers") or []
    ]
    return {
        **pod,
        "automountServiceAccountToken": (lockdown or BASELINE).service_account_token,
        "securityContext": {
            **(pod.get("securityContext") or {}),
            "seccompProfile": RUNTIME_DEFAULT,
        },
        "containers": containers,
    }


def app_pod(account: Account, spec: AppSpec, *, lockdown: Lockdown | None = BASELINE) -> Json:
    """The pod spec of an app's template; ``lockdown`` as the cluster entry's
    ``app_defaults`` says (None: ``"none"``, the pod as the spec makes it)."""
    pod: Json = {**placement(account, spec.constraints), "containers": [app_container(spec)]}
    return locked_down(pod, lockdown) if lockdown is not None else pod


def app_container(spec: AppSpec) -> dict[str, Any]:
    container: dict[str, Any] = {
        "name": "app",
        "image": spec.image,
        "env": env_list(spec.env),
        "resources": container_resources(spec.resources),
        "ports": [
            {
                "containerPort": p.container_port,
                "protocol": p.protocol.upper(),
                **({"hostPort": p.published_port} if p.published_port else {}),
            }
            for p in spec.ports
        ],
    }
    if spec.cmd:
        container["command"] = spec.cmd
    if spec.args:
        container["args"] = spec.args
    return container


def deployment(
    account: Account, spec: AppSpec, *, lockdown: Lockdown | None = BASELINE
) -> dict[str, Any]:
    name = N.object_name(spec.id)
    selector = {N.APP_LABEL: name}
    labels = {**N.user_labels(spec.labels), **selector, N.MANAGED_BY: N.ASGARD}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": name,
            "namespace": account.namespace,
            "labels": labels,
            "annotations": {N.APP_ID_ANNOTATION: spec.id},
        },
        "spec": {
            "replicas": spec.instances,
            "selector": {"matchLabels": selector},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1},
            },
            "template": {
                "metadata": {"labels": labels},
                "spec": app_pod(account, spec, lockdown=lockdown),
            },
        },
    }
