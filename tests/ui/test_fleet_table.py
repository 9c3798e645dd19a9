"""The fleet page's table without a server: the parameters it accepts and refuses (422,
naming the parameter), the search, the filters, the orders and the pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from multidict import MultiDict

from asgard.errors import InvalidValue
from asgard.services.fleet_summary import ClusterState, ClusterSummary
from asgard.ui.fleet_model import FleetView, fleet_table, read_fleet_view

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def line(
    name: str,
    state: ClusterState = "ok",
    kind: str = "kubernetes",
    latency: float | None = 1.0,
    contact: datetime | None = NOW,
    version: str | None = "v1.29.3",
) -> ClusterSummary:
    return ClusterSummary(
        name=name,
        kind=kind,
        state=state,
        reason=None,
        last_contact_at=contact,
        stale_since=None,
        version=version,
        latency_ms=latency,
    )


def view(query: str) -> FleetView:
    pairs = [p.split("=", 1) for p in query.split("&") if p]
    return read_fleet_view(MultiDict((name, value) for name, value in pairs))


FLEET = [
    line("alpha"),
    line("bravo", "down", latency=None, contact=NOW - timedelta(hours=2)),
    line("charlie", "stale", "docker", latency=9.0, contact=NOW - timedelta(minutes=3)),
    line("delta", "degraded", "mesos", latency=4.0),
    line("echo", "unknown", latency=None, contact=None, version=None),
    line("foxtrot", kind="docker", latency=0.5, version="24.0.7"),
]


def names(query: str, rows: list[ClusterSummary] = FLEET) -> list[str]:
    return [r.name for r in fleet_table(rows, view(query)).rows]


def test_the_default_order_is_the_down_and_stale_first_then_by_name() -> None:
    assert names("") == ["bravo", "charlie", "delta", "echo", "alpha", "foxtrot"]
    assert names("sort=state&dir=desc") == ["alpha", "foxtrot", "echo", "delta", "charlie", "bravo"]


def test_sorting_by_name_latency_and_last_contact() -> None:
    assert names("sort=name") == sorted(r.name for r in FLEET)
    assert names("sort=name&dir=desc") == sorted((r.name for r in FLEET), reverse=True)
    assert names("sort=latency") == ["foxtrot", "alpha", "delta", "charlie", "bravo", "echo"]
    assert names("sort=latency&dir=desc")[:2] == ["charlie", "delta"], "unknown latency last"
    assert names("sort=latency&dir=desc")[-2:] == ["bravo", "echo"]
    assert names("sort=contact")[:3] == ["echo", "bravo", "charlie"], "never, then the oldest"
    assert names("sort=contact&dir=desc")[-1] == "echo"


def test_search_by_name_kind_or_version_and_filters_by_state_and_kind() -> None:
    assert names("q=ALP") == ["alpha"], "a substring, whatever its case"
    assert names("q=docker") == ["charlie", "foxtrot"], "the kind"
    assert names("q=24.0") == ["foxtrot"], "the version"
    assert names("state=down,stale") == ["bravo", "charlie"]
    assert names("state=down&state=unknown") == ["bravo", "echo"]
    assert names("kind=docker&state=ok") == ["foxtrot"]
    assert names("kind=openshift") == [], "a kind nobody has: nothing, not an error"
    assert names("q=zulu") == []


def test_pages_cut_the_ordered_lines_and_a_page_past_the_end_is_the_last() -> None:
    many = [line(f"c{i:04d}") for i in range(120)] + [line("z-down", "down")]
    first = fleet_table(many, view("limit=50"))
    assert (first.page, first.pages, first.matching, first.first) == (1, 3, 121, 1)
    assert first.rows[0].name == "z-down", "the down one first, whatever its name"
    third = fleet_table(many, view("limit=50&page=3"))
    assert [r.name for r in third.rows] == [f"c{i:04d}" for i in range(99, 120)]
    assert third.first == 101
    past = fleet_table(many, view("limit=50&page=9"))
    assert past.page == 3
    assert past.rows == third.rows
    empty = fleet_table([], view("page=4"))
    assert (empty.page, empty.pages, empty.first, empty.rows) == (1, 1, 0, [])


def test_links_keep_the_view_and_start_again_at_page_one() -> None:
    v = view("q=web&state=down&sort=latency&dir=desc&page=3&limit=25")
    assert v.url(page=4) == "/ui/?q=web&state=down&sort=latency&dir=desc&page=4&limit=25"
    assert v.url(states=("stale",)) == "/ui/?q=web&state=stale&sort=latency&dir=desc&limit=25"
    assert v.sort_url("latency") == "/ui/?q=web&state=down&sort=latency&limit=25"
    assert v.sort_url("name") == "/ui/?q=web&state=down&sort=name&limit=25"
    assert v.aria_sort("latency") == "descending"
    assert v.aria_sort("name") == ""
    assert FleetView().url() == "/ui/"
    assert view("q=a%20b").q == "a%20b", "the query is read decoded by aiohttp, not here"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("state=sideways", "state"),
        ("state=ok,nope", "state"),
        ("kind=Not A Kind", "kind"),
        ("kind=" + "k" * 80, "kind"),
        ("sort=cpu", "sort"),
        ("sort=name&sort=state", "sort"),
        ("dir=up", "dir"),
        ("page=0", "page"),
        ("page=-1", "page"),
        ("page=2.5", "page"),
        ("page=1e3", "page"),
        ("page=99999999999999999999", "page"),
        ("page=٣", "page"),
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=fifty", "limit"),
        ("q=" + "x" * 201, "q"),
        ("q=a\x00b", "q"),
        ("q=one&q=two", "q"),
    ],
)
def test_a_parameter_no_link_makes_is_refused_naming_it(query: str, field: str) -> None:
    with pytest.raises(InvalidValue) as refused:
        view(query)
    assert [d.field for d in refused.value.details] == [field]
    assert refused.value.msg.startswith(f"the parameter {field} "), "it names it to a person"


def test_empty_and_unknown_parameters_are_the_defaults() -> None:
    assert view("q=&state=&kind=&sort=&dir=&page=&limit=&other=1") == FleetView()
    assert view("q=%20x%20").q == "%20x%20"
    assert view("state=down,down").states == ("down",)
