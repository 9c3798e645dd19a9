"""The fleet's arithmetic, its table's view, and the merged tables' views, without a server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aiohttp.test_utils import make_mocked_request

from asgard.models import (
    Agent,
    App,
    AppInstances,
    ClusterErrorInfo,
    ClusterStatus,
    Job,
    JobStatus,
    Resources,
)
from asgard.services.fleet_summary import fleet_rows, fleet_totals
from asgard.ui.listing import page_rows, read_view
from asgard.ui.table_specs import AGENTS, APPS

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def status(name: str, kind: str = "docker", **extra: object) -> ClusterStatus:
    """A cluster that answered a minute ago, unless ``extra`` says otherwise."""
    fields = {"name": name, "kind": kind, "status": "ok", "last_contact_at": NOW, **extra}
    return ClusterStatus.model_validate(fields)


def agent(cluster: str, id: str, cpus: float, used: float, active: bool = True) -> Agent:
    return Agent(
        id=id,
        cluster=cluster,
        type="DOCKER",
        hostname=id,
        active=active,
        resources=Resources(cpus=cpus, mem=1024),
        used_resources=Resources(cpus=used, mem=256),
    )


def app(cluster: str, id: str, status: str, running: int, desired: int) -> App:
    return App.model_validate(
        {
            "cluster": cluster,
            "id": id,
            "image": "x",
            "type": "DOCKER",
            "status": status,
            "instances": AppInstances(desired=desired, running=running),
        }
    )


def job(cluster: str, id: str, state: str, finished: datetime | None = None) -> Job:
    return Job.model_validate(
        {
            "cluster": cluster,
            "id": id,
            "name": id,
            "image": "x",
            "status": JobStatus.model_validate({"state": state, "finished_at": finished}),
        }
    )


def test_one_row_per_cluster_with_its_sums() -> None:
    rows = fleet_rows(
        [status("a"), status("b", "kubernetes"), status("c", status="unreachable", error="gone")],
        [ClusterErrorInfo(cluster="c", msg="refused", kind="unreachable")],
        [agent("a", "1", 4, 1), agent("a", "2", 4, 3), agent("b", "n", 2, 1, active=False)],
        [
            app("a", "web", "running", 2, 2),
            app("a", "bad", "failed", 0, 1),
            app("b", "short", "running", 1, 3),
            app("b", "new", "deploying", 0, 2),
        ],
        [
            job("a", "j1", "running"),
            job("a", "j2", "failed", NOW - timedelta(hours=1)),
            job("a", "j3", "failed", NOW - timedelta(days=2)),
        ],
        NOW,
    )
    by = {r.name: r for r in rows}
    assert [r.name for r in rows] == ["a", "b", "c"]
    assert by["a"].state == "ok"
    assert (by["a"].allocated.cpus, by["a"].capacity.cpus) == (4.0, 8.0)
    assert by["a"].usage.cpu_pct == 50.0
    assert (by["a"].apps_running, by["a"].apps_failing) == (1, 1)
    assert (by["a"].jobs_running, by["a"].jobs_failed_24h) == (1, 1)
    assert by["b"].state == "degraded", "an inactive agent"
    assert by["b"].apps_failing == 1, "fewer running than desired, not deploying"
    assert by["c"].state == "down"
    assert by["c"].reason == "refused"
    totals = fleet_totals(rows)
    assert totals.clusters == 3
    assert totals.by_state == {"ok": 1, "degraded": 1, "down": 1}
    assert totals.agents == 3
    assert totals.capacity.cpus == 10.0


def test_use_is_summed_over_the_agents_with_meters_against_their_own_capacity() -> None:
    agents = [agent("a", "1", 4, 1), agent("a", "2", 4, 3), agent("b", "n", 2, 1)]
    measured = {("a", "1"): Resources(cpus=0.5, mem=100), ("x", "1"): Resources(cpus=9)}
    rows = fleet_rows([status("a"), status("b")], [], agents, [], [], NOW, measured)
    by = {r.name: r for r in rows}
    assert by["a"].measured_agents == 1, "one of its two agents has a meter"
    assert (by["a"].measured.cpus, by["a"].measured.mem) == (0.5, 100)
    assert by["a"].measured_capacity.cpus == 4.0, "the share is of the metered agent only"
    assert by["a"].allocated.cpus == 4.0, "allocated is unchanged by the meters"
    assert by["b"].measured_agents == 0
    totals = fleet_totals(rows)
    assert (totals.measured_agents, totals.agents) == (1, 3)
    assert totals.measured.cpus == 0.5, "a meter for an agent not listed counts nowhere"


def test_a_failed_cluster_with_last_known_rows_is_stale() -> None:
    error = ClusterErrorInfo(
        cluster="c", msg="refused", kind="unreachable", stale_since=NOW - timedelta(minutes=5)
    )
    [row] = fleet_rows([status("c", status="unreachable")], [error], [], [], [], NOW)
    assert row.state == "stale"
    assert row.stale_since == NOW - timedelta(minutes=5)


def test_a_cluster_that_never_answered_and_never_failed_is_unknown() -> None:
    [row] = fleet_rows([status("new", last_contact_at=None)], [], [], [], [], NOW)
    assert row.state == "unknown"
    [down] = fleet_rows(
        [status("d", status="unreachable", last_contact_at=None)], [], [], [], [], NOW
    )
    assert down.state == "down", "a failure is known: down, not unknown"


def test_a_view_sorts_filters_and_pages() -> None:
    agents = [agent("a", str(i), 10, i) for i in range(5)] + [agent("b", "x", 10, 9)]
    kinds = {"a": "docker", "b": "kubernetes"}
    v = read_view(make_mocked_request("GET", "/ui/agents?sort=cpu&dir=desc&limit=2"))
    first = page_rows(AGENTS, v, kinds, agents)
    assert [a.id for a in first.items] == ["x", "4"]
    assert first.total == 6
    after = read_view(
        make_mocked_request(
            "GET", f"/ui/agents?sort=cpu&dir=desc&limit=2&cursor={first.next_cursor}"
        )
    )
    assert [a.id for a in page_rows(AGENTS, after, kinds, agents).items] == ["3", "2"]
    docker = read_view(make_mocked_request("GET", "/ui/agents?kind=docker&q=3"))
    assert [a.id for a in page_rows(AGENTS, docker, kinds, agents).items] == ["3"]
    assert v.sort_url("cpu") == "/ui/agents?sort=cpu&dir=asc&limit=2"
    assert v.aria_sort("cpu") == "descending"
    assert v.aria_sort("mem") == ""


def test_a_cursor_of_another_sort_starts_again() -> None:
    apps = [app("a", f"app{i}", "running", 1, 1) for i in range(3)]
    broken = read_view(make_mocked_request("GET", "/ui/apps?sort=state&cursor=bm90LWEta2V5"))
    assert len(page_rows(APPS, broken, {}, apps).items) == 3


def test_the_failing_filter_takes_apps_short_of_instances() -> None:
    apps = [app("a", "ok", "running", 1, 1), app("a", "short", "running", 0, 1)]
    failing = read_view(make_mocked_request("GET", "/ui/apps?state=failing"))
    assert [a.id for a in page_rows(APPS, failing, {}, apps).items] == ["short"]
