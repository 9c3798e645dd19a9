"""The fleet on ``/metrics``: the call times kept per cluster, the items a cache holds
counted once, and the text written for a snapshot, read back by prometheus_client's own
parser (so the hand-written format is Prometheus' format)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from asgard.backends.cache_entries import Entry, HeldCounts, Scope
from asgard.backends.call_times import BUCKETS_S, CallTimes
from asgard.http.fleet_metrics import FLEET_METRICS, render_fleet
from asgard.http.metrics import Metrics
from asgard.services.fleet_state import AppCounts, ClusterVitals, FleetSnapshot, Workload

DOCS = Path(__file__).resolve().parents[2] / "docs" / "metrics.rst"
NOW = datetime(2026, 12, 7, tzinfo=UTC)


def samples(text: str) -> dict[str, list[Sample]]:
    """Every sample, by family name, as Prometheus' text parser reads the text."""
    return {f.name: list(f.samples) for f in text_string_to_metric_families(text)}


def value(found: dict[str, list[Sample]], family: str, name: str, **labels: str) -> float:
    matching = [s.value for s in found[family] if s.name == name and s.labels == labels]
    assert len(matching) == 1, f"{name}{labels}: {matching} among {found[family]}"
    return matching[0]


def test_call_times_fall_in_inclusive_buckets_and_sum() -> None:
    calls = CallTimes()
    for seconds in (0.001, 0.01, 0.2, 0.9, 30.0):
        calls.observe("read", seconds)
    calls.observe("write", 2.0)
    read = calls.tallies["read"]
    assert BUCKETS_S == (0.01, 0.05, 0.25, 1.0, 5.0)
    assert read.cumulative() == [2, 2, 3, 4, 4, 5], "le=0.01 holds 0.01 itself; 30 s only +Inf"
    assert read.count == 5
    assert abs(read.sum_s - 31.111) < 1e-9
    assert calls.tallies["write"].cumulative() == [0, 0, 0, 0, 1, 1]


class Item:
    def __init__(self, item_id: str) -> None:
        self.id = item_id


def entry(*ids: str) -> Entry:
    return Entry(items={i: Item(i) for i in ids}, as_of=NOW)


def test_held_items_count_an_agent_seen_by_several_scopes_once() -> None:
    every = entry("node-1", "node-2", "node-3")
    entries = {
        Scope("agents", "a"): every,
        Scope("agents", "b"): entry("node-1", "node-2", "node-3"),
        Scope("agents", "c", owner="team-c"): entry("node-3"),
        Scope("apps", "a"): entry("web", "db"),
        Scope("apps", "b"): entry("web"),
        Scope("jobs", "a"): entry(),
    }
    counts = HeldCounts()
    assert counts.of(entries, generation=1) == {"agents": 3, "apps": 3, "jobs": 0}
    every.items["node-9"] = Item("node-9")
    assert counts.of(entries, generation=1)["agents"] == 3, "counted again once it moved"
    assert counts.of(entries, generation=2)["agents"] == 4
    owned = {
        Scope("agents", "c", owner="team-c"): entry("node-3"),
        Scope("agents", "d", owner="team-c"): entry("node-3"),
        Scope("agents", "e", owner="team-e"): entry("node-4", "node-5"),
    }
    assert counts.of(owned, generation=3) == {"agents": 3}, "each owner's agents once"
    assert counts.of({Scope("agents", "a"): entry()}, generation=4) == {"agents": 0}


def vitals(name: str, **changes: object) -> ClusterVitals:
    calls = CallTimes()
    calls.observe("read", 0.02)
    calls.observe("read", 3.0)
    fields: dict[str, object] = {
        "name": name,
        "kind": "kubernetes",
        "version": "v1.31.0",
        "up": True,
        "last_contact_age_s": 1.5,
        "feed": "current",
        "reconnects": 2,
        "calls": dict(calls.tallies),
        "cache_items": {"agents": 20, "apps": 3},
    }
    fields.update(changes)
    return ClusterVitals(**fields)  # type: ignore[arg-type]


SNAPSHOT = FleetSnapshot(
    clusters=[
        vitals("prod"),
        vitals(
            "lab",
            kind="docker",
            version='20.10 "odd" \\ version',
            up=False,
            last_contact_age_s=None,
            feed="off",
            reconnects=None,
            calls={},
            cache_items={},
        ),
    ],
    workloads=[
        Workload("prod", "payments", AppCounts(3, 5, 4, 1), 2),
        Workload("prod", "search", None, 0),
        Workload("lab", "payments", AppCounts(1, 1, 1, 0), None),
    ],
)


def test_a_snapshot_is_written_as_prometheus_reads_it() -> None:
    found = samples(render_fleet(SNAPSHOT).decode())
    assert set(found) == {name.removesuffix("_total") for name in FLEET_METRICS}, (
        "every family, even one without samples, is declared once"
    )

    info = {s.labels["cluster"]: s.labels for s in found["asgard_cluster_info"]}
    assert info["lab"]["version"] == '20.10 "odd" \\ version', "escaped and read back"
    assert value(found, "asgard_cluster_up", "asgard_cluster_up", cluster="prod") == 1
    assert value(found, "asgard_cluster_up", "asgard_cluster_up", cluster="lab") == 0
    ages = {s.labels["cluster"]: s.value for s in found["asgard_cluster_last_contact_age_seconds"]}
    assert ages == {"prod": 1.5}, "a cluster never heard from has no age"

    states = {
        (s.labels["cluster"], s.labels["state"]): s.value
        for s in found["asgard_cluster_feed_state"]
    }
    assert states[("prod", "current")] == 1
    assert states[("lab", "off")] == 1
    assert len(states) == 8, "four states per cluster"
    assert sum(states.values()) == 2, "one of them set"
    reconnects = found["asgard_cluster_feed_reconnects"]
    assert [(s.labels, s.value) for s in reconnects] == [({"cluster": "prod"}, 2)]

    histogram = "asgard_cluster_call_duration_seconds"
    buckets = {s.labels["le"]: s.value for s in found[histogram] if s.name == f"{histogram}_bucket"}
    assert buckets == {"0.01": 0, "0.05": 1, "0.25": 1, "1.0": 1, "5.0": 2, "+Inf": 2}
    assert value(found, histogram, f"{histogram}_count", cluster="prod", call="read") == 2
    assert value(found, histogram, f"{histogram}_sum", cluster="prod", call="read") == 3.02
    assert all(s.labels["cluster"] == "prod" for s in found[histogram]), "no calls, no series"

    items = {s.labels["resource"]: s.value for s in found["asgard_cluster_cache_items"]}
    assert items == {"agents": 20, "apps": 3}

    def per_account(family: str) -> dict[tuple[str, str], float]:
        return {(s.labels["cluster"], s.labels["account"]): s.value for s in found[family]}

    assert per_account("asgard_apps") == {("prod", "payments"): 3, ("lab", "payments"): 1}
    assert per_account("asgard_app_instances_desired")[("prod", "payments")] == 5
    assert per_account("asgard_app_instances_running")[("prod", "payments")] == 4
    assert per_account("asgard_apps_failing")[("prod", "payments")] == 1
    assert per_account("asgard_jobs_failed") == {("prod", "payments"): 2, ("prod", "search"): 0}


def test_the_fleet_follows_the_requests_metrics_in_one_answer() -> None:
    metrics = Metrics()
    metrics.observe("/agents", "GET", 200, 0.01)
    text = metrics.render(SNAPSHOT).decode()
    found = samples(text)
    assert "asgard_http_requests" in found
    assert "asgard_cluster_up" in found
    assert metrics.render().decode().count("asgard_cluster_up") == 0, "no fleet: no fleet series"


def test_every_metric_is_documented_with_its_labels() -> None:
    """docs/metrics.rst has a row per metric, naming it as it is served."""
    documented = set(re.findall(r"^   \* - ``(asgard_[a-z_]+)``", DOCS.read_text(), re.MULTILINE))
    served = set(FLEET_METRICS) | {
        "asgard_http_requests_total",
        "asgard_http_request_duration_seconds",
    }
    assert documented == served
