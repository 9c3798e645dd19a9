"""Docker Engine objects -> Asgard's domain models. Pure functions, no I/O."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from asgard.backends.common import Json, parse_time
from asgard.backends.docker import labels as L
from asgard.backends.docker.podman import engine_id
from asgard.models import Agent, App, AppInstances, Port, ResourceLimits, Resources, Task
from asgard.models.app import AppStatus
from asgard.models.task import TaskState

MiB = 1024 * 1024
NANO = 1e9
AGENT_TYPE = "DOCKER"


def env_dict(env: Iterable[str] | None) -> dict[str, str]:
    pairs = (item.split("=", 1) for item in env or [])
    return {p[0]: (p[1] if len(p) > 1 else "") for p in pairs}


def strip_digest(image: str) -> str:
    """Swarm pins images as ``name:tag@sha256:...``; users think in ``name:tag``."""
    return image.split("@", 1)[0]


def constraint_from_docker(expr: str) -> str:
    """``node.labels.zone==a`` -> ``zone==a``; other placement expressions are kept as they are."""
    expr = expr.replace(" ", "")
    return expr.removeprefix("node.labels.")


# agents


def node_resources(node: Json) -> Resources:
    res = node.get("Description", {}).get("Resources", {})
    gpus = sum(
        int(g.get("DiscreteResourceSpec", {}).get("Value", 0))
        for g in res.get("GenericResources") or []
        if "gpu" in str(g.get("DiscreteResourceSpec", {}).get("Kind", "")).lower()
    )
    return Resources(
        cpus=res.get("NanoCPUs", 0) / NANO, mem=res.get("MemoryBytes", 0) / MiB, gpus=gpus
    )


def task_reservation(task: Json) -> Resources:
    reservation = task.get("Spec", {}).get("Resources", {}).get("Reservations", {})
    return Resources(
        cpus=reservation.get("NanoCPUs", 0) / NANO, mem=reservation.get("MemoryBytes", 0) / MiB
    )


def node_to_agent(node: Json, *, cluster: str, used: Resources, total_apps: int) -> Agent:
    spec, status = node.get("Spec", {}), node.get("Status", {})
    description = node.get("Description", {})
    return Agent(
        id=node["ID"],
        cluster=cluster,
        type=AGENT_TYPE,
        hostname=description.get("Hostname", node["ID"]),
        active=status.get("State") == "ready" and spec.get("Availability") == "active",
        version=description.get("Engine", {}).get("EngineVersion"),
        attributes={k: str(v) for k, v in (spec.get("Labels") or {}).items()},
        resources=node_resources(node),
        used_resources=used,
        total_apps=total_apps,
    )


def engine_attributes(info: Json, configured: Mapping[str, str]) -> dict[str, str]:
    """``dockerd --label k=v`` shows in ``/info`` as ``["k=v"]``; what the cluster's entry
    says (``agent_attributes``) is over them."""
    return {**env_dict(info.get("Labels")), **configured}


def container_allotment(inspected: Json) -> Resources:
    """What a container may use: its CPU and memory limits (or reservation)."""
    host = inspected.get("HostConfig", {})
    cpus = host.get("NanoCpus") or 0
    if cpus:
        cpus /= NANO
    elif host.get("CpuQuota") and host.get("CpuPeriod"):
        cpus = host["CpuQuota"] / host["CpuPeriod"]
    mem = host.get("Memory") or host.get("MemoryReservation") or 0
    return Resources(cpus=float(cpus), mem=mem / MiB)


def engine_to_agent(
    info: Json,
    *,
    cluster: str,
    used: Resources,
    total_apps: int,
    attributes: Mapping[str, str],
) -> Agent:
    agent_id = engine_id(info)
    return Agent(
        id=agent_id,
        cluster=cluster,
        type=AGENT_TYPE,
        hostname=info.get("Name", agent_id),
        active=True,
        version=info.get("ServerVersion"),
        attributes=engine_attributes(info, attributes),
        resources=Resources(cpus=float(info.get("NCPU", 0)), mem=info.get("MemTotal", 0) / MiB),
        used_resources=used,
        total_apps=total_apps,
    )


# swarm apps and tasks

SWARM_TASK_STATES: dict[str, TaskState] = {
    "running": "running",
    "complete": "finished",
    "failed": "failed",
    "rejected": "failed",
    "shutdown": "killed",
    "remove": "killed",
    "orphaned": "killed",
}
"""Every other state (new, pending, assigned, accepted, preparing, ready, starting) is staging."""


def swarm_task_state(task: Json) -> TaskState:
    return SWARM_TASK_STATES.get(task.get("Status", {}).get("State", ""), "staging")


def service_ports(service: Json) -> list[Port]:
    ports = (
        service.get("Endpoint", {}).get("Ports")
        or service.get("Spec", {}).get("EndpointSpec", {}).get("Ports")
        or []
    )
    return [
        Port(
            container_port=p["TargetPort"],
            protocol=p.get("Protocol", "tcp"),
            published_port=p.get("PublishedPort") or None,
        )
        for p in ports
        if p.get("TargetPort")
    ]


def service_desired(service: Json) -> int:
    status = service.get("ServiceStatus") or {}
    if "DesiredTasks" in status:
        return int(status["DesiredTasks"])
    return int(service.get("Spec", {}).get("Mode", {}).get("Replicated", {}).get("Replicas", 0))


def swarm_status(service: Json, tasks: Iterable[Json], desired: int, running: int) -> AppStatus:
    update = (service.get("UpdateStatus") or {}).get("State", "")
    if desired == 0:
        return "suspended"
    if update in ("updating", "rollback_started"):
        return "deploying"
    if update in ("paused", "rollback_paused"):
        return "failed"
    if running >= desired:
        return "running"
    latest: dict[Any, Json] = {}
    for task in tasks:
        slot = task.get("Slot") or task.get("NodeID")
        if slot not in latest or task.get("CreatedAt", "") > latest[slot].get("CreatedAt", ""):
            latest[slot] = task
    if latest and all(swarm_task_state(t) == "failed" for t in latest.values()):
        return "failed"
    return "deploying"


def service_to_app(service: Json, *, cluster: str, tasks: Sequence[Json]) -> App:
    spec = service.get("Spec", {})
    container = spec.get("TaskTemplate", {}).get("ContainerSpec", {})
    resources = spec.get("TaskTemplate", {}).get("Resources", {})
    allot = resources.get("Reservations") or resources.get("Limits") or {}
    placement = spec.get("TaskTemplate", {}).get("Placement", {})
    desired = service_desired(service)
    running = sum(
        1 for t in tasks if swarm_task_state(t) == "running" and t.get("DesiredState") == "running"
    )
    labels = spec.get("Labels") or {}
    return App(
        cluster=cluster,
        id=labels[L.APP],
        type=AGENT_TYPE,
        image=strip_digest(container.get("Image", "")),
        cmd=container.get("Command") or None,
        args=container.get("Args") or None,
        env=env_dict(container.get("Env")),
        labels=L.user_labels(labels),
        resources=ResourceLimits(
            cpus=allot["NanoCPUs"] / NANO if allot.get("NanoCPUs") else None,
            mem=allot["MemoryBytes"] / MiB if allot.get("MemoryBytes") else None,
        ),
        ports=service_ports(service),
        constraints=[constraint_from_docker(c) for c in placement.get("Constraints") or []],
        status=swarm_status(service, tasks, desired, running),
        instances=AppInstances(desired=desired, running=running),
        created_at=parse_time(service.get("CreatedAt")),
        updated_at=parse_time(service.get("UpdatedAt")),
    )


def swarm_task_to_task(
    task: Json, *, cluster: str, app_id: str, hostnames: Mapping[str, str], ports: list[int]
) -> Task:
    status = task.get("Status", {})
    state = swarm_task_state(task)
    node_id = task.get("NodeID") or None
    return Task(
        id=task["ID"],
        cluster=cluster,
        app_id=app_id,
        agent_id=node_id,
        host=hostnames.get(node_id or ""),
        state=state,
        started_at=parse_time(status.get("Timestamp")) if state == "running" else None,
        ports=ports,
        message=status.get("Err") or status.get("Message") or None,
    )


# single-engine apps and tasks


def container_task_state(container: Json) -> TaskState:
    """A container from ``/containers/json`` or from inspect."""
    state = container.get("State")
    if isinstance(state, Mapping):  # inspect
        status = state.get("Status", "")
        exit_code = state.get("ExitCode", 0)
    else:  # list
        status = state or ""
        exit_code = _exit_code_from_status(container.get("Status", ""))
    if status in ("running", "paused"):
        return "running"
    if status in ("created", "restarting"):
        return "staging"
    if status == "exited":
        return "finished" if exit_code == 0 else "failed"
    if status == "dead":
        return "failed"
    return "killed"


def _exit_code_from_status(status: str) -> int:
    """``Exited (137) 5 seconds ago`` -> 137."""
    if "(" in status and ")" in status:
        try:
            return int(status[status.index("(") + 1 : status.index(")")])
        except ValueError:
            return -1
    return 0


def container_ports(container: Json) -> list[int]:
    return sorted({p["PublicPort"] for p in container.get("Ports") or [] if p.get("PublicPort")})


def engine_status(desired: int, states: list[TaskState]) -> AppStatus:
    running = states.count("running")
    if desired == 0:
        return "suspended"
    if running >= desired:
        return "running"
    if states and running == 0 and all(s == "failed" for s in states):
        return "failed"
    return "deploying"


def inspected_ports(inspected: Json) -> list[Port]:
    exposed = inspected.get("HostConfig", {}).get("PortBindings") or {}
    ports: list[Port] = []
    for key, bindings in sorted(exposed.items()):
        number, _, proto = key.partition("/")
        published = next((int(b["HostPort"]) for b in bindings or [] if b.get("HostPort")), None)
        ports.append(
            Port(container_port=int(number), protocol=proto or "tcp", published_port=published)
        )
    return ports


def spec_ports(inspected: Json) -> list[Port]:
    """The ports the app's spec asked for: as its definition says (``L.PORTS``), else as
    the engine keeps the bindings asked for."""
    said = (inspected.get("Config", {}).get("Labels") or {}).get(L.PORTS)
    if said is None:
        return inspected_ports(inspected)
    return [Port.model_validate(p) for p in json.loads(said)]


def containers_to_app(
    *, cluster: str, app_id: str, model: Json, instances: Sequence[Json], desired: int
) -> App:
    """An app from its containers: ``model`` is an inspected container holding the spec."""
    config = model.get("Config", {})
    allot = container_allotment(model)
    states = [container_task_state(c) for c in instances]
    labels = config.get("Labels") or {}
    created = parse_time(labels.get(L.CREATED_AT)) or parse_time(model.get("Created"))
    return App(
        cluster=cluster,
        id=app_id,
        type=AGENT_TYPE,
        image=config.get("Image", ""),
        cmd=config.get("Entrypoint") or None,
        args=config.get("Cmd") or None,
        env=L.spec_env(env_dict(config.get("Env")), labels),
        labels=L.user_labels(config.get("Labels")),
        resources=ResourceLimits(cpus=allot.cpus or None, mem=allot.mem or None),
        ports=spec_ports(model),
        constraints=json.loads(labels.get(L.CONSTRAINTS) or "[]"),
        status=engine_status(desired, states),
        instances=AppInstances(desired=desired, running=states.count("running")),
        created_at=created,
        updated_at=parse_time(model.get("Created")),
    )


def container_to_task(
    container: Json, *, cluster: str, app_id: str, agent_id: str, host: str
) -> Task:
    state = container_task_state(container)
    started = container.get("Created")
    return Task(
        id=container["Id"],
        cluster=cluster,
        app_id=app_id,
        agent_id=agent_id,
        host=host,
        state=state,
        started_at=datetime.fromtimestamp(started, UTC) if isinstance(started, int) else None,
        ports=container_ports(container),
        message=container.get("Status") or None,
    )
