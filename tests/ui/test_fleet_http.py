"""The fleet page over HTTP, without a browser: sixty-two clusters of the test-only
``static`` kind (two of them down) behind an Asgard in this process, a session made on
the login page, pages read as HTML.

What a person needs of a big fleet: the down ones first, a page at a time, search and
filters in the URL, totals over all of it; a parameter no link makes is a 422 page that
names it, never a 500; an account limited to some clusters sees those alone, in the
table and in the totals; and once the caches hold the clusters, a page asks none of them.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import quote

import pytest

from asgard.backends.orchestrator import Orchestrator
from asgard.events import EventHub
from asgard.models import Role
from tests.conftest import StartAsgard
from tests.support.asgard import AsgardUnderTest
from tests.support.static_backend import StaticAgents, static_cluster
from tests.support.watching import eventually
from tests.ui.test_pages_http import rows
from tests.ui.ui_client import Browser, browser

HEALTHY = [f"s{i:02d}" for i in range(60)]
DOWN = ["gone-a", "gone-b"]
AGENTS = [
    {"id": "n1", "resources": {"cpus": 2, "mem": 1024}, "used": {"cpus": 1, "mem": 256}},
    {"id": "n2", "resources": {"cpus": 2, "mem": 1024}, "used": {"cpus": 0.5, "mem": 256}},
]
LIMITED = ["s01", "s02", "gone-a"]


@dataclass
class Site:
    asgard: AsgardUnderTest
    orchestrator: Orchestrator
    team: Browser
    small: Browser


@pytest.fixture
async def site(start_asgard: StartAsgard) -> AsyncIterator[Site]:
    clusters = [await static_cluster(name, AGENTS) for name in HEALTHY]
    clusters += [await static_cluster(n, AGENTS, down=True, timeout_s=1) for n in DOWN]
    orchestrator = Orchestrator(clusters)
    hub = EventHub()
    orchestrator.enable_caches(hub)
    asgard = await start_asgard(orchestrator, hub=hub)
    team = await asgard.account("team")
    small = await asgard.account("small", clusters=LIMITED)
    everyone = await asgard.caller("v@example.com", roles={team.id: Role.VIEWER})
    few = await asgard.caller("f@example.com", roles={small.id: Role.VIEWER})
    yield Site(asgard, orchestrator, await browser(everyone), await browser(few))
    await orchestrator.close()


def names(html: str) -> list[str]:
    return [
        re.search(r'data-cluster="([^"]+)"', r).group(1)  # type: ignore[union-attr]
        for r in rows(html, "fleet-table")
        if "data-cluster=" in r
    ]


def total(html: str, name: str) -> str:
    found = re.search(rf'id="total-{name}">([^<]*)<', html)
    assert found, name
    return found.group(1)


async def test_the_down_ones_come_first_then_pages_of_fifty_by_name(site: Site) -> None:
    html = await site.team.page("/ui/")
    shown = names(html)
    assert len(shown) == 50
    assert shown[:2] == DOWN, "the down clusters first"
    assert shown[2:] == HEALTHY[:48], "then by name"
    assert "Page 1 of 2" in html
    assert "Clusters (62)" in html
    second = await site.team.page("/ui/?page=2")
    assert names(second) == HEALTHY[48:]
    assert 'rel="prev"' in second
    assert 'rel="next"' not in second
    past = await site.team.page("/ui/?page=40")
    assert names(past) == HEALTHY[48:], "a page past the end is the last one"


async def test_the_totals_are_the_sums_of_every_line_over_all_pages(site: Site) -> None:
    every = await site.team.page("/ui/?limit=200")
    agents = 0
    for row in rows(every, "fleet-table"):
        cells = re.findall(r'<td class="num">(\d+)</td>', row)  # not a latency ("1.1 ms")
        agents += int(cells[0])
    assert agents == 120
    first = await site.team.page("/ui/")
    assert total(first, "agents") == "120", "over every cluster, not this page"
    assert total(first, "clusters") == "62"
    assert "90 / 240 cores" in first, "CPU allocated over the fleet: 60 x 1.5 of 60 x 4"
    assert re.search(r'data-state="down">.*?down 2', first, re.S)
    assert re.search(r'data-state="ok">.*?ok 60', first, re.S)
    assert 'data-kind="static">static 62' in first


async def test_search_filters_and_sorts_are_in_the_url(site: Site) -> None:
    assert names(await site.team.page("/ui/?q=S4")) == [f"s4{i}" for i in range(10)]
    assert names(await site.team.page("/ui/?q=gone")) == DOWN
    assert len(names(await site.team.page("/ui/?q=static&limit=100"))) == 62, "by kind"
    assert names(await site.team.page("/ui/?state=down")) == DOWN
    assert len(names(await site.team.page("/ui/?state=ok&limit=100"))) == 60
    assert names(await site.team.page("/ui/?kind=docker")) == []
    by_name = await site.team.page("/ui/?sort=name&dir=desc&limit=3")
    assert names(by_name) == ["s59", "s58", "s57"]
    assert 'aria-sort="descending"' in by_name
    assert 'href="/ui/?sort=name&amp;limit=3"' in by_name, "the header reverses it"
    html = await site.team.page("/ui/?q=s1&state=ok&sort=latency&limit=25")
    assert 'value="s1"' in html, "the search box keeps the search"
    assert '<option value="ok" selected>' in html
    assert '<option value="25" selected>' in html
    assert '<input type="hidden" name="sort" value="latency" form="fleet-filters">' in html
    assert "10 of 62 clusters match" in html, "s10 to s19"


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("state=<script>alert(1)</script>", "state"),
        ("state=ok,sideways", "state"),
        ("kind=../../etc/passwd", "kind"),
        ("sort=cpu", "sort"),
        ("dir=sideways", "dir"),
        ("page=-1", "page"),
        ("page=0", "page"),
        ("page=NaN", "page"),
        ("page=" + "9" * 40, "page"),
        ("limit=1e9", "limit"),
        ("limit=100000", "limit"),
        ("q=" + "x" * 5000, "q"),
        ("q=%00", "q"),
        ("q=a&q=b", "q"),
        ("page=1&page=2", "page"),
    ],
)
async def test_a_bad_parameter_is_a_422_page_naming_it(
    site: Site, query: str, parameter: str
) -> None:
    html = await site.team.page("/ui/?" + query, status=422)
    assert f"the parameter {parameter} " in html
    assert 'href="/ui/">Back to the fleet' in html
    assert "Traceback" not in html
    assert "<script>alert" not in html, "what was sent is never echoed unescaped"


async def test_odd_but_harmless_queries_answer_the_page(site: Site) -> None:
    for query in ("q=%ff%fe", "q=%E2%80%AE", "unknown=1", "q=&state=&kind=&sort=&dir=", "q=%25"):
        html = await site.team.page("/ui/?" + query)
        assert 'id="fleet-table"' in html, query


async def test_an_account_limited_to_some_clusters_sees_those_alone(site: Site) -> None:
    html = await site.small.page("/ui/")
    assert names(html) == ["gone-a", "s01", "s02"]
    assert total(html, "clusters") == "3"
    assert total(html, "agents") == "4"
    assert "8 cores" in html, "the capacity of its two clusters"
    for other in ("s03", "s59", "gone-b"):
        assert other not in html, other
    assert names(await site.small.page("/ui/?q=s03")) == []
    assert names(await site.small.page("/ui/?state=down")) == ["gone-a"]


async def test_a_page_asks_no_cluster_once_their_caches_hold_it(site: Site) -> None:
    await site.team.page("/ui/")  # the first reads load every cluster's cache
    agents = {
        name: cluster.parts["agents"]
        for name, cluster in site.orchestrator.clusters.items()
        if name in HEALTHY
    }
    assert all(isinstance(a, StaticAgents) for a in agents.values())
    before = {name: a.reads for name, a in agents.items()}  # type: ignore[attr-defined]
    assert all(before.values()), "each was read once"
    for query in ("", "?page=2", "?q=s1", "?sort=latency&dir=desc"):
        await site.team.page("/ui/" + query)
    after = {name: a.reads for name, a in agents.items()}  # type: ignore[attr-defined]
    assert after == before


async def test_the_page_is_compressed_when_the_browser_takes_it(site: Site) -> None:
    response = await site.team.request("GET", "/ui/", headers={"Accept-Encoding": "gzip"})
    assert response.status == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert 'id="fleet-table"' in await response.text()
    plain = await site.team.request("GET", "/ui/", headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers


async def test_the_live_regions_and_the_swaps_name_the_table(site: Site) -> None:
    html = await site.team.page("/ui/?q=s1")
    assert '<div id="fleet-totals" data-live>' in html
    assert '<div id="fleet-clusters" data-live>' in html
    assert 'hx-select-oob="fleet-totals,fleet-clusters"' in html
    form = html.split('<form id="fleet-filters"', 1)[1].split(">", 1)[0]
    assert 'hx-select="#fleet-clusters"' in form
    assert 'hx-push-url="true"' in form
    assert 'method="get" action="/ui/"' in form, "a plain form without JavaScript"
    link = quote("/ui/?q=s1&sort=name", safe="/?=&")
    assert f'href="{link.replace("&", "&amp;")}" hx-get=' in html


async def test_a_swap_puts_the_views_own_url_in_the_address_bar(site: Site) -> None:
    """The form sends its empty fields too; the page answers with the view's own URL."""
    sent = "/ui/?q=s1&state=&kind=&limit=50&page=9"
    swap = await site.team.request("GET", sent, headers={"HX-Request": "true"})
    assert swap.status == 200
    assert swap.headers["HX-Push-Url"] == "/ui/?q=s1", "page 9 of 1 is page 1"
    live = {"HX-Request": "true", "HX-Trigger": "live-refresh"}
    refresh = await site.team.request("GET", sent, headers=live)
    assert "HX-Push-Url" not in refresh.headers, "a live refresh changes no history"
    plain = await site.team.request("GET", sent)
    assert "HX-Push-Url" not in plain.headers


async def test_a_change_in_one_cluster_shows_on_the_next_page(site: Site) -> None:
    """Its line was kept while its cache did not change; a change makes it again."""
    before = await site.team.page("/ui/?q=s05")
    assert re.search(r'<td class="num">2</td>', before), "two agents"
    cluster = site.orchestrator.clusters["s05"]
    cluster.config.agents.append({"id": "n3", "resources": {"cpus": 2, "mem": 1024}})  # type: ignore[attr-defined]
    cluster.feed.emit()  # type: ignore[union-attr]

    async def three() -> bool:
        return '<span class="value" id="total-agents">121</span>' in await site.team.page("/ui/")

    await eventually(three, "the third agent of s05 in the totals", 10)
    after = await site.team.page("/ui/?q=s05")
    assert re.search(r'<td class="num">3</td>', after)
