"""Which namespaces an account may not have: those of the clusters' own workloads and
Asgard's. An account's namespace is where its apps and jobs are made (a Kubernetes
namespace, a Marathon group, a Chronos and Docker name prefix), so an account in
``kube-system`` would run in, read and delete the cluster's own system workloads."""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Final

__all__ = ["ALWAYS_RESERVED", "DEFAULT_NAMESPACE", "ReservedNamespaces"]

ALWAYS_RESERVED: Final = ("kube-*", "openshift-*", "asgard", "asgard-system")
"""Kubernetes' and OpenShift's system namespaces, and Asgard's own (``deploy/kubernetes``
runs it in ``asgard``)."""
DEFAULT_NAMESPACE: Final = "default"
"""Kubernetes' namespace for whatever names none: shared by everyone, so no account's."""


@dataclass(frozen=True)
class ReservedNamespaces:
    extra: tuple[str, ...] = ()
    """More of them, from ``ASGARD_RESERVED_NAMESPACES``; ``*`` matches any characters."""
    allow_default: bool = False

    @classmethod
    def parse(cls, extra: str, *, allow_default: bool) -> ReservedNamespaces:
        """From the setting: names and patterns separated by commas or spaces."""
        found = tuple(p for p in extra.replace(",", " ").split() if p)
        return cls(extra=found, allow_default=allow_default)

    def refusal(self, namespace: str) -> str | None:
        """Why an account may not have this namespace, or None when it may."""
        if namespace == DEFAULT_NAMESPACE and not self.allow_default:
            return (
                "namespace 'default' is reserved: it is shared by whatever names no namespace "
                "(ASGARD_ALLOW_DEFAULT_NAMESPACE=true allows it)"
            )
        for pattern in (*ALWAYS_RESERVED, *self.extra):
            if fnmatchcase(namespace, pattern):
                return (
                    f"namespace '{namespace}' is reserved ({pattern}): it belongs to the "
                    "clusters' own workloads or to Asgard"
                )
        return None
