"""What Asgard knows about a cluster, and how a cluster's failure is reported as data."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from asgard.errors import ClusterErrorKind
from asgard.models.base import AsgardModel


class Capabilities(AsgardModel):
    """What a kind of cluster can do, known without asking it: services refuse early what a
    kind cannot do (501), and the conformance kit runs the checks that apply."""

    job_files: bool = Field(
        True, description="One-time jobs take an input zip at /input and leave /output"
    )
    workflow_volumes: bool = Field(
        True, description="A workflow's stages can share a volume (what workflows need)"
    )
    job_exit_codes: bool = Field(True, description="The cluster says how a job's command exited")
    job_timeouts: bool = Field(True, description="A job is stopped at its timeout_s")
    checks_images: bool = Field(
        False, description="An unknown image is refused when an app is created, not later"
    )
    own_scheduler: bool = Field(
        False,
        description="The cluster keeps and runs scheduled jobs itself (CronJobs, Chronos); "
        "otherwise Asgard keeps the schedules and starts each run as a job",
    )


class ClusterStatus(AsgardModel):
    """One line of ``GET /clusters`` and of ``asgard clusters check``: from what Asgard
    knows (its answers, its change feed, its breaker, a background probe), or asked live."""

    name: str
    kind: str = Field(description="docker, kubernetes, mesos, or a third-party kind")
    status: Literal["ok", "unreachable"]
    version: str | None = None
    latency_ms: float | None = None
    last_contact_at: datetime | None = Field(
        None, description="When the cluster last answered Asgard anything"
    )
    error: str | None = Field(
        None,
        description="Why the cluster is unreachable: its last failure, newer than its last answer",
    )
    cache: Literal["current", "behind", "off"] = Field(
        "off",
        description="current: lists come from memory, kept current by the cluster's change "
        "feed; behind: the feed is down or a re-read failed, so lists are read live until it "
        "recovers; off: this server keeps no cache of the cluster (cache = false, or a "
        "one-off command)",
    )
    capabilities: Capabilities = Field(default_factory=lambda: Capabilities())


class ClusterErrorInfo(AsgardModel):
    """A cluster that failed during a multi-cluster read: data, not an exception."""

    cluster: str
    msg: str
    kind: ClusterErrorKind
    stale_since: datetime | None = Field(
        None,
        description="With ?stale=true, when the cluster has items in the answer that Asgard "
        "last saw: since when they are not current (the cluster's first failure since it last "
        "answered). Null when the cluster contributed nothing",
    )
    last_contact_at: datetime | None = Field(
        None, description="When the cluster last answered Asgard anything"
    )
