"""The fleet's state (``FleetSnapshot``) in Prometheus' text format, for ``/metrics``.

Written out directly rather than through prometheus_client's metric families: at a
thousand clusters the fleet is some thirty thousand samples, and building a family and
a sample object for each, then formatting them, cost several times the 100 ms a scrape
may take on these machines, where joining the lines costs about a tenth of it
(``bench/README.md``, "Scraping /metrics"). The format is the same (a test parses it with
prometheus_client's own parser). Labels are the cluster, its kind and version, the kind
of call, the resource, and the account: never an app, a task or a job.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from asgard.backends.call_times import BUCKETS_S, CALL_KINDS
from asgard.backends.feeds import RESOURCES
from asgard.services.fleet_state import FEED_STATES, ClusterVitals, FleetSnapshot, Workload

__all__ = ["FLEET_METRICS", "render_fleet"]

FLEET_METRICS: Final[dict[str, tuple[str, str]]] = {
    "asgard_cluster_info": ("gauge", "Each cluster (1), with its kind and its version"),
    "asgard_cluster_up": (
        "gauge",
        "1 when the cluster answered this process and its last call (probe or request) too",
    ),
    "asgard_cluster_last_contact_age_seconds": (
        "gauge",
        "Seconds since the cluster last answered; absent when it never answered",
    ),
    "asgard_cluster_feed_state": (
        "gauge",
        "1 for the state the cluster's change feed and cache are in: current, behind "
        "(a re-read failed), cut (the feed is not connected) or off (no cache)",
    ),
    "asgard_cluster_feed_reconnects_total": (
        "counter",
        "Times the cluster's change feed connected again after a break",
    ),
    "asgard_cluster_call_duration_seconds": (
        "histogram",
        "Time of the calls Asgard made to the cluster, answered or not, by read or write",
    ),
    "asgard_cluster_cache_items": (
        "gauge",
        "Items the cluster's cache holds, by resource, each counted once",
    ),
    "asgard_apps": ("gauge", "Apps the cache holds, per account and cluster"),
    "asgard_app_instances_desired": (
        "gauge",
        "Instances the apps ask for, summed, per account and cluster",
    ),
    "asgard_app_instances_running": (
        "gauge",
        "Instances of the apps running, summed, per account and cluster",
    ),
    "asgard_apps_failing": (
        "gauge",
        "Apps whose cluster says they failed, per account and cluster",
    ),
    "asgard_jobs_failed": (
        "gauge",
        "Jobs the cache holds that failed (until they are removed), per account and cluster",
    ),
}
"""Every metric of the fleet: its type and what it says (``docs/metrics.rst`` has them)."""

_BOUNDS: Final = (*(repr(float(b)) for b in BUCKETS_S), "+Inf")
"""The buckets' ``le`` labels, written as prometheus_client writes them (``1.0``, ``+Inf``)."""


def _quoted(value: str) -> str:
    return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


def _family(out: list[str], name: str, samples: Iterable[str]) -> None:
    kind, text = FLEET_METRICS[name]
    out.append(f"# HELP {name} {text}\n# TYPE {name} {kind}\n")
    out.extend(samples)


def _clusters(out: list[str], clusters: list[ClusterVitals], label: dict[str, str]) -> None:
    _family(
        out,
        "asgard_cluster_info",
        (
            f'asgard_cluster_info{{{label[c.name]},kind="{_quoted(c.kind)}",'
            f'version="{_quoted(c.version or "")}"}} 1\n'
            for c in clusters
        ),
    )
    _family(
        out,
        "asgard_cluster_up",
        (f"asgard_cluster_up{{{label[c.name]}}} {int(c.up)}\n" for c in clusters),
    )
    name = "asgard_cluster_last_contact_age_seconds"
    _family(
        out,
        name,
        (
            f"{name}{{{label[c.name]}}} {c.last_contact_age_s:.3f}\n"
            for c in clusters
            if c.last_contact_age_s is not None
        ),
    )
    _family(
        out,
        "asgard_cluster_feed_state",
        (
            f'asgard_cluster_feed_state{{{label[c.name]},state="{state}"}} {int(c.feed == state)}\n'
            for c in clusters
            for state in FEED_STATES
        ),
    )
    name = "asgard_cluster_feed_reconnects_total"
    _family(
        out,
        name,
        (
            f"{name}{{{label[c.name]}}} {c.reconnects}\n"
            for c in clusters
            if c.reconnects is not None
        ),
    )
    _family(out, "asgard_cluster_call_duration_seconds", _call_times(clusters, label))
    _family(
        out,
        "asgard_cluster_cache_items",
        (
            f'asgard_cluster_cache_items{{{label[c.name]},resource="{resource}"}} {n}\n'
            for c in clusters
            for resource in RESOURCES
            if (n := c.cache_items.get(resource)) is not None
        ),
    )


def _call_times(clusters: list[ClusterVitals], label: dict[str, str]) -> Iterable[str]:
    name = "asgard_cluster_call_duration_seconds"
    for c in clusters:
        for kind in CALL_KINDS:
            tally = c.calls.get(kind)
            if tally is None:
                continue
            labels = f'{label[c.name]},call="{kind}"'
            for bound, n in zip(_BOUNDS, tally.cumulative(), strict=True):
                yield f'{name}_bucket{{{labels},le="{bound}"}} {n}\n'
            yield f"{name}_sum{{{labels}}} {tally.sum_s!r}\n"
            yield f"{name}_count{{{labels}}} {tally.count}\n"


def _workloads(out: list[str], workloads: list[Workload], label: dict[str, str]) -> None:
    accounts: dict[str, str] = {}

    def labels(w: Workload) -> str:
        cluster = label.get(w.cluster) or f'cluster="{_quoted(w.cluster)}"'
        if w.account is None:
            return cluster
        account = accounts.get(w.account)
        if account is None:
            account = accounts[w.account] = f',account="{_quoted(w.account)}"'
        return cluster + account

    labelled = [(labels(w), w) for w in workloads]
    with_apps = [(lab, w.apps) for lab, w in labelled if w.apps is not None]
    for name, column in (
        ("asgard_apps", 0),
        ("asgard_app_instances_desired", 1),
        ("asgard_app_instances_running", 2),
        ("asgard_apps_failing", 3),
    ):
        _family(out, name, (f"{name}{{{lab}}} {counts[column]}\n" for lab, counts in with_apps))
    _family(
        out,
        "asgard_jobs_failed",
        (
            f"asgard_jobs_failed{{{lab}}} {w.jobs_failed}\n"
            for lab, w in labelled
            if w.jobs_failed is not None
        ),
    )


def render_fleet(snapshot: FleetSnapshot) -> bytes:
    """Every fleet metric, each family once, in the text format (version 0.0.4)."""
    label = {c.name: f'cluster="{_quoted(c.name)}"' for c in snapshot.clusters}
    out: list[str] = []
    _clusters(out, snapshot.clusters, label)
    _workloads(out, snapshot.workloads, label)
    return "".join(out).encode()
