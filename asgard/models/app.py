"""Apps (long-running services), their instances and their specification."""

from __future__ import annotations

import re
import shlex
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field

from asgard.models.base import DNS_LABEL, AsgardModel, InputModel, UserLabels

APP_ID_PATTERN = rf"^{DNS_LABEL}(/{DNS_LABEL})*$"
_APP_ID_RE = re.compile(APP_ID_PATTERN)
RESERVED_SEGMENTS = frozenset(
    {"tasks", "stats", "avg-1min", "logs", "restart", "versions", "rollback"}
)
"""Words of the URLs under an app (``.../apps/web/stats``), so they cannot be a segment of
an app's id: every path means one thing. A route added under an app adds its words here
(a test holds the two together)."""

_NOT_RESERVED = "(?!(?:" + "|".join(sorted(RESERVED_SEGMENTS)) + ")(?:/|$))"
APP_ID_ROUTE = rf"{_NOT_RESERVED}{DNS_LABEL}(?:/{_NOT_RESERVED}{DNS_LABEL})*"
"""An app id as a URL's pattern: no segment is a reserved word, so
``PATCH .../apps/web/stats`` is the stats route's (405), never an app ``web/stats``."""


def _check_app_id(value: str) -> str:
    value = value.strip("/")
    if len(value) > 200 or not _APP_ID_RE.match(value):
        raise ValueError(
            "must be DNS labels joined by '/' ([a-z0-9]([-a-z0-9]*[a-z0-9])?), "
            "at most 200 characters"
        )
    reserved = RESERVED_SEGMENTS.intersection(value.split("/"))
    if reserved:
        raise ValueError(f"'{sorted(reserved)[0]}' is reserved and cannot be part of an app id")
    return value


AppId = Annotated[str, AfterValidator(_check_app_id)]

_CONSTRAINT_RE = re.compile(r"^[A-Za-z0-9_.\-/]+(==|!=)[^\s]*$")


def _check_constraint(value: str) -> str:
    if not _CONSTRAINT_RE.match(value):
        raise ValueError("must be '<attribute>==<value>' or '<attribute>!=<value>'")
    return value


MARATHON_OPERATORS = {"CLUSTER": "==", "IS": "==", "LIKE": "==", "UNLIKE": "!="}
_REGEX_CHARS = re.compile(r"[\\^$|?*+()\[\]{}]")
"""A dot is read as itself: ``node1.example.com`` is a host name far more often than a pattern."""


def from_marathon(attribute: str, operator: str, value: str) -> str:
    """A Marathon constraint as Asgard's, where it means an exact match or its opposite:
    CLUSTER, IS, and LIKE or UNLIKE with a plain value (Marathon matches the whole value, so
    a pattern without regular expression characters is an exact match; dots are taken
    literally). Anything else cannot be said on every kind of cluster: ValueError, why."""
    if operator not in MARATHON_OPERATORS:
        raise ValueError(
            f"Marathon's {operator} cannot be placed on every kind of cluster; "
            "use CLUSTER, IS, LIKE or UNLIKE with a plain value"
        )
    if operator in ("LIKE", "UNLIKE") and _REGEX_CHARS.search(value):
        raise ValueError(
            f"{operator} with a regular expression cannot be placed on every kind of "
            "cluster; give a plain value"
        )
    return f"{attribute}{MARATHON_OPERATORS[operator]}{value}"


def _from_marathon(value: Any) -> Any:
    """Take a Marathon constraint (``["zone", "CLUSTER", "eu"]``) as scripts written for the
    original Asgard send them."""
    if not isinstance(value, list | tuple):
        return value
    if len(value) != 3 or not all(isinstance(v, str) for v in value):
        raise ValueError(
            "must be '<attribute>==<value>', '<attribute>!=<value>' or a Marathon "
            "constraint [attribute, operator, value]"
        )
    return from_marathon(*value)


Constraint = Annotated[str, BeforeValidator(_from_marathon), AfterValidator(_check_constraint)]
"""Where instances may run: ``attribute==value`` or ``attribute!=value`` on agent attributes
(a Marathon triplet with CLUSTER, IS, LIKE or UNLIKE and a plain value is taken too)."""


def split_constraint(constraint: str) -> tuple[str, str, str]:
    """``'zone==a'`` -> ``('zone', '==', 'a')``."""
    op = "==" if "==" in constraint else "!="
    attribute, value = constraint.split(op, 1)
    return attribute, op, value


def _command_list(value: Any) -> Any:
    """Accept a command as a list, or as one string split the way a shell would."""
    if isinstance(value, str):
        return shlex.split(value)
    return value


Command = Annotated[list[str], BeforeValidator(_command_list)]


class Port(InputModel):
    container_port: int = Field(ge=1, le=65535)
    protocol: Literal["tcp", "udp"] = "tcp"
    published_port: int | None = Field(
        None, ge=1, le=65535, description="Port on the agents; chosen by the cluster when absent"
    )


class ResourceLimits(InputModel):
    """What one instance may use: reserved for it and capped at it."""

    cpus: float | None = Field(None, gt=0, description="CPU cores")
    mem: float | None = Field(None, gt=0, description="Memory in MiB")


class AppFields(InputModel):
    """Fields shared by what a client asks for (AppSpec) and what a cluster runs (App)."""

    cluster: str
    id: AppId = Field(
        description="DNS labels joined by '/', without the account's namespace. A segment "
        "that names a sub-resource of an app (" + ", ".join(sorted(RESERVED_SEGMENTS)) + ") "
        "is refused with 422, so every path means one thing"
    )
    image: str = Field(min_length=1)
    cmd: Command | None = Field(
        None, description="Replaces the image's entrypoint; a string is split like a shell would"
    )
    args: Command | None = Field(None, description="Arguments; replace the image's default command")
    env: dict[str, str] = Field(default_factory=dict)
    labels: dict[str, str] = Field(default_factory=dict)
    resources: ResourceLimits = Field(default_factory=ResourceLimits)
    ports: list[Port] = Field(default_factory=list)
    constraints: list[Constraint] = Field(
        default_factory=list,
        description="'attribute==value' or 'attribute!=value' on agent attributes; a Marathon "
        "constraint [attribute, CLUSTER|IS|LIKE|UNLIKE, plain value] is taken too",
    )


class AppSpec(AppFields):
    """The body of ``POST /apps``."""

    labels: UserLabels = Field(default_factory=dict)
    instances: int = Field(1, ge=0, le=10_000)


class AppPatch(InputModel):
    """The body of ``PATCH /clusters/{cluster}/apps/{app_id}``: any subset, then a redeploy."""

    instances: int | None = Field(None, ge=0, le=10_000)
    image: str | None = Field(None, min_length=1)
    cmd: Command | None = None
    args: Command | None = None
    env: dict[str, str] | None = None
    labels: UserLabels | None = None
    resources: ResourceLimits | None = None


AppStatus = Literal["running", "deploying", "suspended", "failed", "unknown"]


class AppInstances(AsgardModel):
    desired: int = 0
    running: int = 0
    healthy: int | None = Field(None, description="None where the cluster has no health checks")


class App(AppFields):
    """An app as its cluster runs it; status and counts are read from the cluster, not stored."""

    model_config = AppFields.model_config | {"extra": "ignore"}

    image: str = Field(
        description="Empty for an app that runs a command without an image, which Marathon "
        "allows (the Mesos containerizer runs the command in a plain sandbox)"
    )
    type: str = Field(description="DOCKER, KUBERNETES or MESOS")
    status: AppStatus = "unknown"
    instances: AppInstances = Field(default_factory=AppInstances)
    created_at: datetime | None = None
    updated_at: datetime | None = None


class AppRef(AsgardModel):
    """The short form of an app, where only its identity matters."""

    id: str
    cluster: str
    type: str
