"""What Asgard may do on a Kubernetes cluster, as RBAC objects: a read-only ClusterRole,
and a Role with its RoleBinding in each account's namespace for everything it changes.

Every write Asgard makes (apps, jobs, scheduled jobs, their volumes and one-time token
Secrets) is in an account's namespace, so that is where its rights to write are granted:
even a bug that built a path into ``kube-system`` would be refused by the API server. What
stays cluster-wide is read-only: nodes (agents), a namespace's existence, the metrics API,
and the lists the change feed watches across namespaces (pods, workloads, Jobs) to keep
agents' usage and every account's apps current. Secrets are never readable cluster-wide.
``asgard clusters rbac --namespace NS`` prints a namespace's objects for ``kubectl apply``;
``deploy/kubernetes/rbac.yaml`` holds the ClusterRole.
"""

from __future__ import annotations

from typing import Any, Final

import yaml

__all__ = ["CLUSTER_RULES", "NAMESPACE_RULES", "namespace_rbac", "namespace_rbac_yaml"]

Rule = dict[str, list[str]]
READ: Final = ["get", "list", "watch"]
WRITE: Final = ["get", "list", "watch", "create", "update", "patch", "delete"]

NAMESPACE_RULES: Final[list[Rule]] = [
    {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch", "delete"]},
    {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]},
    {"apiGroups": [""], "resources": ["events"], "verbs": READ},
    {
        "apiGroups": ["apps"],
        "resources": ["deployments", "statefulsets", "daemonsets"],
        "verbs": WRITE,
    },
    {
        "apiGroups": ["apps"],
        "resources": ["deployments/scale", "statefulsets/scale"],
        "verbs": ["get", "update", "patch"],
    },
    {"apiGroups": ["apps"], "resources": ["replicasets", "controllerrevisions"], "verbs": READ},
    {"apiGroups": ["batch"], "resources": ["jobs", "cronjobs"], "verbs": WRITE},
    {
        "apiGroups": [""],
        "resources": ["persistentvolumeclaims"],
        "verbs": ["get", "list", "create", "patch", "delete"],
    },
    {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "create", "patch", "delete"]},
]
"""What Asgard does in an account's namespace: every change it makes anywhere."""

CLUSTER_RULES: Final[list[Rule]] = [
    {"apiGroups": [""], "resources": ["nodes"], "verbs": READ},
    {"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get"]},
    {"apiGroups": [""], "resources": ["pods"], "verbs": READ},
    {
        "apiGroups": ["apps"],
        "resources": ["deployments", "statefulsets", "daemonsets"],
        "verbs": READ,
    },
    {"apiGroups": ["batch"], "resources": ["jobs"], "verbs": READ},
    {"apiGroups": ["metrics.k8s.io"], "resources": ["nodes", "pods"], "verbs": ["get", "list"]},
]
"""What Asgard reads across namespaces; nothing it may change."""


def namespace_rbac(
    namespace: str, *, service_account: str = "asgard", service_account_namespace: str = "asgard"
) -> list[dict[str, Any]]:
    """The Role and RoleBinding that let Asgard's service account work in ``namespace``."""
    meta = {
        "name": "asgard",
        "namespace": namespace,
        "labels": {"app.kubernetes.io/name": "asgard", "app.kubernetes.io/managed-by": "asgard"},
    }
    return [
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": meta,
            "rules": NAMESPACE_RULES,
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": meta,
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "asgard"},
            "subjects": [
                {
                    "kind": "ServiceAccount",
                    "name": service_account,
                    "namespace": service_account_namespace,
                }
            ],
        },
    ]


def namespace_rbac_yaml(namespace: str, **subject: str) -> str:
    """``namespace_rbac`` as YAML documents, for ``kubectl apply -f -``."""
    return yaml.safe_dump_all(namespace_rbac(namespace, **subject), sort_keys=False)
