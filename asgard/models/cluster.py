"""What Asgard knows about a cluster, and how a cluster's failure is reported as data."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final, Literal

from pydantic import Field

from asgard.errors import ClusterErrorKind
from asgard.models.base import AsgardModel


class Capabilities(AsgardModel):
    """What a kind of cluster can do, known without asking it: Asgard refuses early what a
    cluster cannot do (501, before asking it), ``GET /clusters`` shows it, and the
    conformance kit runs the checks that apply, and checks the refusal of the rest.

    Every refusal a kind makes is declared here. An operation that needs a capability
    names it in its mark (``asgard.backends.operations.needs``) and is refused by the
    core on a cluster that lacks it; what depends on an argument (an input zip, ``since``)
    or on one job (its logs, its output) is refused by the service."""

    apps: bool = Field(
        True,
        description="The cluster runs apps; without, it is agents alone (Mesos without "
        "Marathon): app listings are empty and every other app operation answers 501",
    )
    app_writes: bool = Field(True, description="Apps can be deployed, changed, restarted, removed")
    app_versions: bool = Field(
        True, description="The versions an app ran can be listed, and an app rolled back"
    )
    app_stats: bool = Field(True, description="The CPU and memory an app's instances use")
    app_logs: bool = Field(True, description="The logs of an app and of each of its tasks")
    log_since: bool = Field(
        True,
        description="Task logs can start at a time (since): the cluster stamps its lines; "
        "otherwise since answers 501",
    )
    jobs: bool = Field(True, description="The cluster runs one-time jobs")
    job_logs: bool = Field(True, description="A job's output can be read as its log")
    job_files: bool = Field(
        True, description="One-time jobs take an input zip at /input and leave /output"
    )
    workflow_volumes: bool = Field(
        True, description="A workflow's stages can share a volume (what workflows need)"
    )
    job_exit_codes: bool = Field(True, description="The cluster says how a job's command exited")
    job_timeouts: bool = Field(
        True, description="A job is stopped at its timeout_s; otherwise timeout_s answers 422"
    )
    checks_images: bool = Field(
        False, description="An unknown image is refused when an app is created, not later"
    )
    own_scheduler: bool = Field(
        False,
        description="The cluster keeps and runs scheduled jobs itself (CronJobs, Chronos); "
        "otherwise Asgard keeps the schedules and starts each run as a job",
    )
    scheduled_jobs: bool = Field(
        True,
        description="Scheduled jobs: the cluster's own scheduler's, or Asgard's starting "
        "one-time jobs of the cluster",
    )

    def lacking(self, *flags: str) -> list[str]:
        """Those of ``flags`` the cluster lacks."""
        return [f for f in flags if not getattr(self, f)]

    def implied(self) -> Capabilities:
        """As declared, with what follows from it: a cluster without apps changes none and
        keeps no versions, stats or logs of them; one without jobs has no job logs, files,
        volumes, exit codes or timeouts; scheduled jobs need a scheduler of the cluster's
        own, or one-time jobs for Asgard's to start."""
        off: dict[str, bool] = {}
        if not self.apps:
            off |= dict.fromkeys(APP_FLAGS, False)
        if not self.jobs:
            off |= dict.fromkeys(JOB_FLAGS, False)
        if not self.own_scheduler and not self.jobs:
            off["scheduled_jobs"] = False
        return self.model_copy(update=off) if off else self


APP_FLAGS: Final = ("app_writes", "app_versions", "app_stats", "app_logs", "log_since")
JOB_FLAGS: Final = ("job_logs", "job_files", "workflow_volumes", "job_exit_codes", "job_timeouts")
REFUSED_AS: Final[dict[str, str]] = {
    "apps": "apps",
    "app_writes": "changing apps",
    "app_versions": "app versions",
    "app_stats": "app stats",
    "app_logs": "app logs",
    "log_since": "reading logs since a time (its log lines carry no times)",
    "jobs": "one-time jobs",
    "job_logs": "job logs",
    "job_files": "job files",
    "workflow_volumes": "workflow volumes",
    "scheduled_jobs": "scheduled jobs",
}
"""How a refusal names what a cluster lacks: ``<this> is not supported on <kind> clusters``."""


ClusterSource = Literal["file", "api"]
"""Where a cluster's entry comes from: the TOML file (read-only at run time) or the API."""


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
    source: ClusterSource = Field(
        "file",
        description="file: an entry of the clusters file (or the kind's default), read-only "
        "through the API; api: registered at run time with POST /clusters",
    )


SECRET_SHOWN: Final = "set"
"""What an answer shows of a secret that is set: never its value."""


class ClusterCheck(AsgardModel):
    """What registering a cluster found before saving it (``POST /clusters``): whether it
    answers, its version, and what Asgard may not do there that it needs to."""

    reachable: bool
    version: str | None = None
    error: str | None = Field(None, description="Why the cluster did not answer")
    missing: list[str] = Field(
        default_factory=list,
        description="The permissions Asgard needs and lacks, one line each "
        "(``list nodes``, ``watch pods``...)",
    )

    @property
    def passed(self) -> bool:
        return self.reachable and not self.missing

    def reasons(self) -> list[str]:
        """Why the check failed, one line each; empty when it passed."""
        found = [] if self.reachable else [f"unreachable: {self.error or 'no answer'}"]
        return found + [f"missing permission: {m}" for m in self.missing]


class StoredCluster(AsgardModel):
    """A cluster registered through the API, as its row keeps it: the entry's fields with
    its secrets taken out, and those secrets encrypted (``asgard.cluster_keys``)."""

    name: str
    kind: str
    settings: dict[str, Any]
    secrets: str | None = Field(None, description="The encrypted secrets; never sent")
    secret_names: list[str] = Field(default_factory=list)
    created_at: datetime
    updated_at: datetime


class ClusterEntry(AsgardModel):
    """One cluster's entry as ``GET /clusters/{cluster}`` shows it to an administrator: its
    settings, each secret that is set shown as ``"set"``."""

    name: str
    kind: str
    source: ClusterSource
    settings: dict[str, Any] = Field(
        description="The entry's fields as given (the clusters file's, or the API's); a "
        'secret that is set is shown as "set", never its value'
    )
    status: ClusterStatus | None = Field(
        None, description="What is known of the cluster now; null while it is being added"
    )
    created_at: datetime | None = None
    updated_at: datetime | None = None


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
