"""Mesos agents and Marathon apps and tasks <-> Asgard's domain models. Pure functions,
no I/O; Chronos jobs are in ``job_converters.py``."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from typing import Any

from asgard.backends.common import Json, parse_time
from asgard.errors import InvalidValue, NotFound
from asgard.models import (
    Account,
    Agent,
    App,
    AppInstances,
    AppSpec,
    AppVersion,
    Port,
    ResourceLimits,
    Resources,
    Task,
)
from asgard.models.app import APP_ID_PATTERN, AppStatus, from_marathon, split_constraint
from asgard.models.task import TaskState
from asgard.models.version import version_of

AGENT_TYPE = "MESOS"
DEFAULT_CPUS = 0.1
DEFAULT_MEM = 128.0


# agents


def _resources(found: Json | None) -> Resources:
    found = found or {}
    return Resources(
        cpus=float(found.get("cpus") or 0),
        mem=float(found.get("mem") or 0),
        disk=float(found.get("disk") or 0),
        gpus=float(found.get("gpus") or 0),
    )


def agent_to_model(agent: Json, *, cluster: str, total_apps: int, errors: dict[str, str]) -> Agent:
    return Agent(
        id=str(agent["id"]),
        cluster=cluster,
        type=AGENT_TYPE,
        hostname=str(agent.get("hostname", agent["id"])),
        active=bool(agent.get("active", False)),
        version=agent.get("version"),
        attributes={k: str(v) for k, v in (agent.get("attributes") or {}).items()},
        resources=_resources(agent.get("resources")),
        used_resources=_resources(agent.get("used_resources")),
        total_apps=total_apps,
        errors=errors,
    )


def app_of_executor(executor_id: str) -> tuple[str, str] | None:
    """``dev_infra_asgard_api.<uuid>`` -> ``("dev", "infra/asgard/api")``."""
    path = executor_id.split(".", 1)[0]
    parts = path.split("_")
    if len(parts) < 2 or not all(parts):
        return None
    return parts[0], "/".join(parts[1:])


# Marathon apps and tasks


_APP_ID = re.compile(APP_ID_PATTERN)


def group_of(account: Account) -> str:
    return f"/{account.namespace}/"


def marathon_id(account: Account, app_id: str) -> str:
    """The app's id on Marathon. An id that is not a path of DNS labels names no app of
    the account: ``/iso/../iso-b/api`` would be another namespace's once a client or
    Marathon normalised it, so it never leaves here."""
    if len(app_id) > 200 or not _APP_ID.fullmatch(app_id):
        raise NotFound(f"app '{app_id}' not found")
    return f"/{account.namespace}/{app_id}"


def asgard_id(account: Account, marathon_app_id: str) -> str:
    return marathon_app_id.removeprefix(group_of(account))


MARATHON_TASK_STATES: dict[str, TaskState] = {
    "TASK_RUNNING": "running",
    "TASK_FINISHED": "finished",
    "TASK_FAILED": "failed",
    "TASK_ERROR": "failed",
    "TASK_LOST": "failed",
    "TASK_DROPPED": "failed",
    "TASK_GONE": "failed",
    "TASK_UNREACHABLE": "failed",
    "TASK_KILLED": "killed",
    "TASK_KILLING": "killed",
}
"""TASK_STAGING, TASK_STARTING and anything else are staging."""


def task_to_model(task: Json, *, cluster: str, app_id: str) -> Task:
    return Task(
        id=str(task["id"]),
        cluster=cluster,
        app_id=app_id,
        agent_id=task.get("slaveId"),
        host=task.get("host"),
        state=MARATHON_TASK_STATES.get(str(task.get("state")), "staging"),
        started_at=parse_time(task.get("startedAt")),
        ports=[int(p) for p in task.get("ports") or []],
    )


def constraints_from_marathon(found: Iterable[list[str]]) -> list[str]:
    """``[field, op, value]`` as Asgard writes it. The owner constraint Asgard forces shows,
    as ``owner==<owner>``, as it does on every kind; what Asgard cannot express (UNIQUE,
    GROUP_BY, MAX_PER, regular expressions) is left out of the answer, not off Marathon."""
    result: list[str] = []
    for constraint in found:
        if len(constraint) != 3:
            continue
        try:
            said = from_marathon(*(str(part) for part in constraint))
        except ValueError:
            continue
        if said not in result:
            result.append(said)
    return result


def definition_problem(app: Json) -> str | None:
    """Why an AppSpec cannot say what this definition of an app runs, or None: what
    ``app_to_model`` leaves out rather than show wrong."""
    for constraint in app.get("constraints") or []:
        try:
            from_marathon(*(str(part) for part in constraint))
        except (TypeError, ValueError) as exc:
            return f"its constraint {constraint} cannot be said: {exc}"
    container = app.get("container") or {}
    if container and container.get("type", "DOCKER") != "DOCKER" and not _docker(app):
        return f"it runs in a {container.get('type')} container without a Docker image"
    if any(not isinstance(v, str | int | float) for v in (app.get("env") or {}).values()):
        return "its environment takes secrets, which an app cannot say"
    if app.get("cmd") and app.get("args"):
        return "it has both cmd and args, which Marathon no longer takes together"
    return None


def version_to_model(app: Json, *, account: Account, cluster: str) -> AppVersion:
    """One of Marathon's versions of an app, named by its timestamp."""
    version = str(app.get("version", ""))
    return version_of(
        app_to_model(app, account=account, cluster=cluster),
        id=version,
        created_at=parse_time(version),
        unsupported=definition_problem(app),
    )


def with_owner(found: Iterable[list[str]], owner: str | None) -> list[list[str]]:
    """An app's Marathon constraints as they are, with the account's owner constraint forced
    (an UNIQUE or GROUP_BY someone set on Marathon survives an update through Asgard)."""
    if owner is None:
        return [list(c) for c in found]
    kept = [list(c) for c in found if not (len(c) == 3 and c[0] == "owner" and c[1] == "LIKE")]
    return [*kept, ["owner", "LIKE", owner]]


def constraints_to_marathon(constraints: Iterable[str], owner: str | None) -> list[list[str]]:
    result = []
    for constraint in constraints:
        field, op, value = split_constraint(constraint)
        if owner is not None and (field, op, value) == ("owner", "==", owner):
            continue  # the forced one below says it
        result.append([field, "CLUSTER" if op == "==" else "UNLIKE", value])
    return with_owner(result, owner)


def _docker(app: Json) -> Json:
    container = app.get("container") or {}
    return container.get("docker") or {}


def _ports(app: Json) -> list[Port]:
    container = app.get("container") or {}
    mappings = _docker(app).get("portMappings") or container.get("portMappings") or []
    return [
        Port(
            container_port=int(m["containerPort"]),
            protocol="udp" if str(m.get("protocol", "tcp")).lower() == "udp" else "tcp",
            published_port=int(m["hostPort"]) if m.get("hostPort") else None,
        )
        for m in mappings
        if m.get("containerPort")
    ]


def app_status(app: Json, deploying: bool) -> tuple[AppStatus, AppInstances]:
    desired = int(app.get("instances") or 0)
    running = int(app.get("tasksRunning") or 0)
    healthy = (
        int(app["tasksHealthy"]) if app.get("healthChecks") and "tasksHealthy" in app else None
    )
    instances = AppInstances(desired=desired, running=running, healthy=healthy)
    if desired == 0:
        return "suspended", instances
    if deploying or app.get("deployments"):
        return "deploying", instances
    if running >= desired and (healthy is None or healthy >= desired):
        return "running", instances
    failure = app.get("lastTaskFailure") or {}
    if failure and (failure.get("version") or "") >= (app.get("version") or ""):
        return "failed", instances
    return "deploying", instances


def app_to_model(app: Json, *, account: Account, cluster: str, deploying: bool = False) -> App:
    status, instances = app_status(app, deploying)
    versions = app.get("versionInfo") or {}
    cmd = app.get("cmd")
    return App(
        cluster=cluster,
        id=asgard_id(account, str(app["id"])),
        type=AGENT_TYPE,
        image=str(_docker(app).get("image") or (app.get("container") or {}).get("image") or ""),
        cmd=shlex.split(cmd) if cmd else None,
        args=app.get("args") or None,
        env={
            k: str(v) for k, v in (app.get("env") or {}).items() if isinstance(v, str | int | float)
        },
        labels={k: str(v) for k, v in (app.get("labels") or {}).items()},
        resources=ResourceLimits(cpus=app.get("cpus") or None, mem=app.get("mem") or None),
        ports=_ports(app),
        constraints=constraints_from_marathon(app.get("constraints") or []),
        status=status,
        instances=instances,
        created_at=parse_time(versions.get("lastConfigChangeAt") or app.get("version")),
        updated_at=parse_time(app.get("version")),
    )


def app_to_marathon(account: Account, spec: AppSpec) -> dict[str, Any]:
    if spec.cmd and spec.args:
        raise InvalidValue("Marathon runs cmd or args, not both", field="cmd")
    body: dict[str, Any] = {
        "id": marathon_id(account, spec.id),
        "instances": spec.instances,
        "cpus": spec.resources.cpus or DEFAULT_CPUS,
        "mem": spec.resources.mem or DEFAULT_MEM,
        "env": dict(spec.env),
        "labels": dict(spec.labels),
        "constraints": constraints_to_marathon(spec.constraints, account.owner),
        "container": {
            "type": "DOCKER",
            "docker": {
                "image": spec.image,
                "network": "BRIDGE",
                "portMappings": [
                    {
                        "containerPort": p.container_port,
                        "hostPort": p.published_port or 0,
                        "protocol": p.protocol,
                    }
                    for p in spec.ports
                ],
            },
        },
    }
    if spec.cmd:
        body["cmd"] = shlex.join(spec.cmd)
    if spec.args:
        body["args"] = spec.args
    return body
