"""What every cluster refuses of a write, whatever its kind: labels under the prefixes its
entry reserves, and host ports below 1024 unless its entry allows them.

Labels are how routers and schedulers beside the cluster decide where traffic goes
(Traefik reads ``traefik.*`` from Docker, Marathon-LB ``HAPROXY_*`` from Marathon): a
tenant who could set them would route another tenant's hostname to its own app. A host
port below 1024 is a service of the agent itself (SSH, a web server in front). Both are
checked here once, in the cluster's guard, before any kind sees the write, so a kind
outside Asgard is covered too. Asgard's own labels are refused earlier, by the models
(``asgard.models.base.UserLabels``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

from asgard.errors import InvalidValue
from asgard.models import AppPatch, AppSpec
from asgard.models.job import JobFields

__all__ = [
    "APP_CAPABILITIES",
    "DEFAULT_RESERVED_LABEL_PREFIXES",
    "LOW_PORTS",
    "admit",
    "check_host_ports",
    "check_labels",
    "reserved_prefix",
]

DEFAULT_RESERVED_LABEL_PREFIXES: Final = (
    "traefik.",
    "com.docker.",
    "io.kubernetes.",
    "kubernetes.io/",
    "k8s.io/",
    "HAPROXY_",
    "MARATHON_",
    "DCOS_",
)
"""Routers' and orchestrators' own labels: Traefik, Docker and Swarm, Kubernetes,
Marathon-LB, Marathon and DC/OS. ``app.kubernetes.io/name`` and the like stay free."""

LOW_PORTS: Final = 1024
"""Host ports below this are refused unless the cluster entry sets ``allow_low_host_ports``."""

APP_CAPABILITIES: Final = (
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "NET_BIND_SERVICE",
    "SETGID",
    "SETPCAP",
    "SETUID",
)
"""What an app keeps of Linux capabilities (all others dropped): what an image that starts
as root and then changes to its own user needs. Docker's default set less ``NET_RAW``
(forged packets), ``MKNOD``, ``AUDIT_WRITE``, ``SETFCAP`` and ``SYS_CHROOT``; every one of
them is allowed by Kubernetes' Pod Security "baseline"."""


def reserved_prefix(key: str, prefixes: Iterable[str]) -> str | None:
    """The reserved prefix ``key`` starts with, or None. Case is ignored: Traefik reads its
    labels whatever their case."""
    lowered = key.lower()
    return next((p for p in prefixes if lowered.startswith(p.lower())), None)


def check_labels(
    labels: Mapping[str, str] | None, prefixes: Iterable[str], *, cluster: str
) -> None:
    """``InvalidValue`` (422) naming the first label under a reserved prefix."""
    kept = tuple(prefixes)
    for key in labels or {}:
        prefix = reserved_prefix(key, kept)
        if prefix is not None:
            raise InvalidValue(
                f"label '{key}' is under '{prefix}', which cluster {cluster} reserves "
                "(reserved_label_prefixes in its entry)",
                field="labels",
                cluster=cluster,
            )


def check_host_ports(ports: Iterable[Any], *, allowed: bool, cluster: str) -> None:
    """``InvalidValue`` (422) naming the first published port below 1024, unless allowed."""
    if allowed:
        return
    for port in ports:
        if port.published_port is not None and port.published_port < LOW_PORTS:
            raise InvalidValue(
                f"host port {port.published_port} is below {LOW_PORTS}; cluster {cluster} "
                "allows such ports only with allow_low_host_ports = true in its entry",
                field="ports",
                cluster=cluster,
            )


def admit(
    arguments: Iterable[Any], *, prefixes: Iterable[str], allow_low_ports: bool, cluster: str
) -> None:
    """Check every spec among a write's arguments (an app's, a patch, a job's or a
    schedule's), whichever operation it is."""
    for value in arguments:
        if isinstance(value, AppSpec | AppPatch | JobFields):
            check_labels(value.labels, prefixes, cluster=cluster)
        if isinstance(value, AppSpec):
            check_host_ports(value.ports, allowed=allow_low_ports, cluster=cluster)
