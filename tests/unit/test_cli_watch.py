"""``asgard get clusters --watch``: a ``cluster`` event from ``/events`` replaces the row of
the cluster it names (what Asgard tells when a cluster goes down or comes back)."""

from __future__ import annotations

import argparse

from asgard.cli.get import RESOURCES
from asgard.cli.watch import _apply, _key
from asgard.events import Event
from asgard.models import ClusterStatus


def status(name: str, state: str = "ok", error: str | None = None) -> ClusterStatus:
    return ClusterStatus.model_validate(
        {"name": name, "kind": "docker", "status": state, "error": error}
    )


def test_a_cluster_event_replaces_that_clusters_row() -> None:
    resource = RESOURCES["clusters"]
    assert resource.event_kind == "cluster", "clusters can be watched"
    rows = {_key(s): s for s in (status("a"), status("b"))}
    args = argparse.Namespace(state=None, attr=None)
    down = status("a", "unreachable", "cluster a is unreachable: refused")
    event = Event(
        kind="cluster", cluster="a", id="a", change="modified", object=down.model_dump(mode="json")
    )
    assert _apply(rows, resource, event, args) == ("modified", down)
    assert rows[("a", "a")].status == "unreachable"
    assert rows[("b", "b")].status == "ok", "the others as they were"
