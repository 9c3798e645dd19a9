"""What Asgard knows about a cluster, and how a cluster's failure is reported as data."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from asgard.errors import ClusterErrorKind
from asgard.models.base import AsgardModel


class ClusterStatus(AsgardModel):
    """One line of ``GET /clusters`` and of ``asgard clusters check``."""

    name: str
    kind: str = Field(description="docker, kubernetes, mesos, or a third-party kind")
    status: Literal["ok", "unreachable"]
    version: str | None = None
    latency_ms: float | None = None
    error: str | None = None
    cache: Literal["current", "behind", "off"] = Field(
        "off",
        description="current: lists come from memory, kept current by the cluster's change "
        "feed; behind: the feed is down or a re-read failed, so lists are read live until it "
        "recovers; off: this server keeps no cache of the cluster (cache = false, or a "
        "one-off command)",
    )


class ClusterErrorInfo(AsgardModel):
    """A cluster that failed during a multi-cluster read: data, not an exception."""

    cluster: str
    msg: str
    kind: ClusterErrorKind
