"""Shared building blocks of the domain models."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

DNS_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS_LABEL_RE = re.compile(rf"^{DNS_LABEL}$")


class AsgardModel(BaseModel):
    """Base of every model Asgard returns: plain data, snake_case, no surprises."""

    model_config = ConfigDict(populate_by_name=True)


class HeldInBulk(AsgardModel):
    """A model the caches hold by the hundred thousand (a task per pod of a big cluster).

    pydantic gives each instance its own set of the fields that were given, a set of
    about ten names costing some 700 bytes, which was most of a task's size. These
    models are answers, never patches (nothing reads which of their fields were given),
    so every instance shares one set naming all of its class's fields: adding a field
    name to it (as an assignment does) changes nothing, and a copy copies it."""

    def model_post_init(self, context: object, /) -> None:
        object.__setattr__(self, "__pydantic_fields_set__", _every_field(type(self)))


_EVERY_FIELD: dict[type[BaseModel], set[str]] = {}


def _every_field(model: type[BaseModel]) -> set[str]:
    found = _EVERY_FIELD.get(model)
    if found is None:
        found = _EVERY_FIELD[model] = set(model.model_fields)
    return found


class InputModel(AsgardModel):
    """Base of every model a client sends: an unknown field is a mistake worth a 422."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def _check_dns_label(value: str) -> str:
    if len(value) > 63 or not _DNS_LABEL_RE.match(value):
        raise ValueError(
            "must be a DNS label: lower-case letters, digits and '-', "
            "starting and ending with a letter or digit, at most 63 characters"
        )
    return value


DnsLabel = Annotated[str, AfterValidator(_check_dns_label)]
"""A name usable everywhere: Kubernetes namespace, Marathon group, Chronos prefix, Docker label."""


ASGARD_LABEL_PREFIX = "asgard."
"""Asgard's own labels and annotations (``asgard.namespace`` on Docker, ``asgard.io/app`` on
Kubernetes) start so: they are what scoping relies on, so a client never sets one."""
ASGARD_LABEL_KEYS = frozenset({"app.kubernetes.io/managed-by"})
"""Keys Asgard sets on what it makes outside its own prefix."""


def _check_user_labels(value: dict[str, str]) -> dict[str, str]:
    for key in value:
        if key.lower().startswith(ASGARD_LABEL_PREFIX) or key in ASGARD_LABEL_KEYS:
            raise ValueError(
                f"label '{key}' is Asgard's own ('{ASGARD_LABEL_PREFIX}*' and "
                f"{', '.join(sorted(ASGARD_LABEL_KEYS))} are set by Asgard alone)"
            )
    return value


UserLabels = Annotated[dict[str, str], AfterValidator(_check_user_labels)]
"""The labels of what a client sends: none of Asgard's own, which scoping relies on. What
a cluster answers is read with plain ``dict[str, str]`` (its converters drop Asgard's)."""


def utc_now() -> datetime:
    return datetime.now(UTC)


def round_up_pct(value: float) -> float:
    """Percentages are rounded *up* to two decimals, as the original Asgard did.

    Binary floating point noise (1.374 / 2.5 * 100 is 54.96000000000001) is
    rounded away first, so only real fractions of a hundredth round up."""
    if value <= 0:
        return 0.0
    return math.ceil(round(value * 100, 7)) / 100


def pct(part: float, whole: float) -> float:
    """``part`` as a percentage of ``whole``; zero when there is no whole to speak of."""
    if whole <= 0:
        return 0.0
    return round_up_pct(part / whole * 100)


class Resources(AsgardModel):
    """CPU in cores, memory and disk in MiB, GPUs as a count."""

    cpus: float = 0.0
    mem: float = 0.0
    disk: float = 0.0
    gpus: float = 0.0

    def __add__(self, other: Resources) -> Resources:
        return Resources.total((self, other))

    @classmethod
    def total(cls, many: Iterable[Resources]) -> Resources:
        """The sum, in plain floats and one model at the end: summing 5,000 agents with
        ``+`` validated 5,000 intermediate models and was most of an ``/agents`` request."""
        cpus = mem = disk = gpus = 0.0
        for one in many:
            cpus += one.cpus
            mem += one.mem
            disk += one.disk
            gpus += one.gpus
        return cls.model_construct(cpus=cpus, mem=mem, disk=disk, gpus=gpus)


class UsageStats(AsgardModel):
    """How much of what exists is in use, in percent."""

    cpu_pct: float = Field(0.0, description="CPU in use as a percentage, rounded up to 2 decimals")
    ram_pct: float = Field(
        0.0, description="Memory in use as a percentage, rounded up to 2 decimals"
    )

    @classmethod
    def of(cls, used: Resources, total: Resources) -> UsageStats:
        return cls(cpu_pct=pct(used.cpus, total.cpus), ram_pct=pct(used.mem, total.mem))
