"""Asgard's specs -> Docker Engine request bodies. Pure functions, no I/O.

What the engine runs is built here and only here, so a Swarm service and a
single engine's containers made from the same AppSpec carry the same image,
command, environment, limits and labels.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from asgard.backends.docker import labels as L
from asgard.backends.safety import APP_CAPABILITIES
from asgard.models import Account, AppSpec, JobSpec, Port, ResourceLimits
from asgard.models.app import split_constraint

MiB = 1024 * 1024
NANO = 1_000_000_000
NAME_LIMIT = 63


@dataclass(frozen=True)
class Hardening:
    """What an app's containers get besides its spec, from its cluster entry
    (``app_defaults``, ``pids_limit``). Jobs get more: every capability dropped."""

    baseline: bool = True
    """``no-new-privileges``, every capability dropped but ``APP_CAPABILITIES``."""
    pids_limit: int | None = 4096
    """Processes (threads included) a container may have: a fork bomb stops there."""

    def host_config(self) -> dict[str, Any]:
        """For a single engine's containers (``HostConfig``)."""
        found: dict[str, Any] = {}
        if self.baseline:
            found = {
                "CapDrop": ["ALL"],
                "CapAdd": list(APP_CAPABILITIES),
                "SecurityOpt": ["no-new-privileges"],
            }
        if self.pids_limit is not None:
            found["PidsLimit"] = self.pids_limit
        return found

    def container_spec(self) -> dict[str, Any]:
        """For a Swarm service's ``ContainerSpec``. ``NoNewPrivileges`` is honoured by
        engines of API 1.46 and later; older ones ignore it (the daemon's own
        ``--no-new-privileges`` then covers every container)."""
        if not self.baseline:
            return {}
        return {
            "CapabilityDrop": ["ALL"],
            "CapabilityAdd": list(APP_CAPABILITIES),
            "Privileges": {"NoNewPrivileges": True},
        }


NO_HARDENING: Final = Hardening(baseline=False, pids_limit=None)
BASELINE: Final = Hardening()


SEPARATOR = "_"
"""Between a namespace and what follows it in an engine name. Namespaces and app, job and
workflow names are DNS labels (``[a-z0-9-]``), which never hold ``_``, while every Docker
name accepts it (containers and volumes ``[a-zA-Z0-9][a-zA-Z0-9_.-]*``, Swarm services
``[-_]`` between alphanumerics): the first ``_`` of a name ends its namespace, so no two
namespaces can make the same name. ``-`` could not do it (``team`` + ``b-api`` and
``team-b`` + ``api`` were both ``team-b-api``), nor ``--``, which a DNS label may hold."""


def _bounded(base: str) -> str:
    if len(base) <= NAME_LIMIT:
        return base
    digest = hashlib.sha256(base.encode()).hexdigest()[:8]
    return f"{base[: NAME_LIMIT - 9].rstrip('-_')}-{digest}"


def object_name(namespace: str, app_id: str, *suffix: str) -> str:
    """An app's engine name: ``dev_team_api`` for app ``team/api`` of namespace ``dev``,
    an instance ``dev_team_api__3fa2c1``. Segments of the app id are joined by one ``_``
    and suffixes by two, so ``team/api`` and ``team-api`` differ as well; long names end
    with a hash of the whole."""
    parts = [namespace, *app_id.split("/")]
    return _bounded(SEPARATOR.join(parts) + "".join(f"__{s}" for s in suffix))


def internal_name(namespace: str, what: str, name: str, *suffix: str) -> str:
    """The engine name of something Asgard makes besides apps: a job's container or
    service (``dev__job_make-x1``), its volumes (``dev__job_make-x1__in``), a workflow's
    volume (``dev__wf_w1``). Two ``_`` after the namespace, where an app's name has one,
    so no app can take such a name."""
    return _bounded(f"{namespace}__{what}_{name}" + "".join(f"__{s}" for s in suffix))


def legacy_name(namespace: str, *parts: str) -> str:
    """The name Asgard gave before ``SEPARATOR`` (``dev-team-api``). Such names can collide
    across namespaces, so they are never looked up alone: an object is Asgard's for a
    namespace only when its ``asgard.namespace`` label says so."""
    base = "-".join([namespace, *(p.replace("/", "-") for p in parts)])
    return _bounded(base)


def env_list(env: dict[str, str]) -> list[str]:
    return [f"{k}={v}" for k, v in sorted(env.items())]


def app_labels(account: Account, app_id: str, user: dict[str, str]) -> dict[str, str]:
    """User labels first, so Asgard's own always win: they are what scoping relies on."""
    return {**L.user_labels(user), L.NAMESPACE: account.namespace, L.APP: app_id}


def placement(account: Account, constraints: list[str]) -> list[str]:
    """Swarm constraints. An account with an owner runs only on its own agents."""
    found = []
    for constraint in constraints:
        attribute, op, value = split_constraint(constraint)
        target = attribute if attribute.startswith("node.") else f"node.labels.{attribute}"
        found.append(f"{target}{op}{value}")
    if account.owner is not None:
        found.append(f"node.labels.owner=={account.owner}")
    return found


def swarm_resources(resources: ResourceLimits, pids_limit: int | None = None) -> dict[str, Any]:
    allot: dict[str, int] = {}
    if resources.cpus:
        allot["NanoCPUs"] = int(resources.cpus * NANO)
    if resources.mem:
        allot["MemoryBytes"] = int(resources.mem * MiB)
    found: dict[str, Any] = {"Limits": dict(allot), "Reservations": dict(allot)} if allot else {}
    if pids_limit is not None:
        found.setdefault("Limits", {})["Pids"] = pids_limit
    return found


def swarm_ports(ports: list[Port]) -> dict[str, Any]:
    return {
        "Ports": [
            {
                "Protocol": p.protocol,
                "TargetPort": p.container_port,
                **({"PublishedPort": p.published_port} if p.published_port else {}),
                "PublishMode": "ingress",
            }
            for p in ports
        ]
    }


def service_spec(
    account: Account, spec: AppSpec, name: str, hardening: Hardening = NO_HARDENING
) -> dict[str, Any]:
    """A replicated service. Updates start the new task before stopping the old one."""
    labels = app_labels(account, spec.id, spec.labels)
    container: dict[str, Any] = {
        "Image": spec.image,
        "Env": env_list(spec.env),
        "Labels": {L.NAMESPACE: account.namespace, L.APP: spec.id},
        **hardening.container_spec(),
    }
    if spec.cmd:
        container["Command"] = spec.cmd
    if spec.args:
        container["Args"] = spec.args
    return {
        "Name": name,
        "Labels": labels,
        "TaskTemplate": {
            "ContainerSpec": container,
            "Resources": swarm_resources(spec.resources, hardening.pids_limit),
            "Placement": {"Constraints": placement(account, spec.constraints)},
            "RestartPolicy": {"Condition": "any", "Delay": 1_000_000_000},
        },
        "Mode": {"Replicated": {"Replicas": spec.instances}},
        "UpdateConfig": {"Parallelism": 1, "Order": "start-first", "FailureAction": "pause"},
        "EndpointSpec": swarm_ports(spec.ports),
    }


def host_resources(resources: ResourceLimits) -> dict[str, Any]:
    host: dict[str, Any] = {}
    if resources.cpus:
        host["NanoCpus"] = int(resources.cpus * NANO)
    if resources.mem:
        host["Memory"] = int(resources.mem * MiB)
    return host


def container_config(
    account: Account,
    spec: AppSpec,
    *,
    role: str,
    extra_labels: dict[str, str] | None = None,
    hardening: Hardening = NO_HARDENING,
) -> dict[str, Any]:
    """One container of an app on a single engine; every instance gets the same config."""
    labels = {**app_labels(account, spec.id, spec.labels), L.ROLE: role, **(extra_labels or {})}
    config: dict[str, Any] = {
        "Image": spec.image,
        "Env": env_list(spec.env),
        "Labels": labels,
        "ExposedPorts": {f"{p.container_port}/{p.protocol}": {} for p in spec.ports},
        "HostConfig": {
            **host_resources(spec.resources),
            **hardening.host_config(),
            "RestartPolicy": {"Name": "unless-stopped"},
            "PortBindings": {
                f"{p.container_port}/{p.protocol}": [
                    {"HostPort": str(p.published_port) if p.published_port else ""}
                ]
                for p in spec.ports
            },
        },
    }
    if spec.cmd:
        config["Entrypoint"] = spec.cmd
    if spec.args:
        config["Cmd"] = spec.args
    return config


def job_labels(
    account: Account, spec: JobSpec, job_id: str, created_at: datetime
) -> dict[str, str]:
    """What a job's container (single engine) or service (Swarm) is labelled with: whose
    it is, and what its record needs (name, retries, timeout, when it was made)."""
    labels = {
        **L.user_labels(spec.labels),
        L.NAMESPACE: account.namespace,
        L.JOB: job_id,
        L.JOB_NAME: spec.name,
        L.JOB_RETRIES: str(spec.retries),
        L.ENV_NAMES: L.env_names(spec.env),
        L.CREATED_AT: created_at.isoformat(),
    }
    if spec.timeout_s is not None:
        labels[L.JOB_TIMEOUT] = repr(spec.timeout_s)
    return labels
