"""What Asgard may do on a Kubernetes cluster, asked of the cluster itself before it is
registered: one ``SelfSubjectAccessReview`` per verb of the cluster-wide rules Asgard
needs (``rbac.CLUSTER_RULES``), asked with the entry's own credentials.

What Asgard does in an account's namespace is granted per namespace (``asgard clusters
rbac``), when the account is given the cluster, so it is not asked here: the namespaces
may not exist yet.
"""

from __future__ import annotations

import asyncio
from typing import Any, Final

from asgard.backends.answers import expect_keys
from asgard.backends.kubernetes.client import SERVER, KubeClient
from asgard.backends.kubernetes.rbac import CLUSTER_RULES

__all__ = ["REVIEWS", "missing_permissions"]

REVIEWS: Final = ("apis", "authorization.k8s.io", "v1", "selfsubjectaccessreviews")


def needed() -> list[tuple[str, str, str]]:
    """(group, resource, verb) of every cluster-wide permission Asgard uses."""
    return [
        (group, resource, verb)
        for rule in CLUSTER_RULES
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    ]


def _review(group: str, resource: str, verb: str) -> dict[str, Any]:
    return {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectAccessReview",
        "spec": {"resourceAttributes": {"group": group, "resource": resource, "verb": verb}},
    }


def _named(group: str, resource: str, verb: str) -> str:
    return f"{verb} {resource}" + (f" ({group})" if group else "")


async def _allowed(client: KubeClient, group: str, resource: str, verb: str) -> bool:
    answer = await client.request(
        "POST", REVIEWS, what="access review", body=_review(group, resource, verb)
    )
    expect_keys(answer, ("status",), cluster=client.cluster, what="access review", server=SERVER)
    status = answer["status"]
    return isinstance(status, dict) and status.get("allowed") is True


async def missing_permissions(client: KubeClient) -> list[str]:
    """Each permission Asgard needs cluster-wide and the credentials lack, as ``verb
    resource (group)``; the reviews are asked at once."""
    wanted = needed()
    found = await asyncio.gather(*(_allowed(client, *w) for w in wanted))
    return [_named(*w) for w, allowed in zip(wanted, found, strict=True) if not allowed]
