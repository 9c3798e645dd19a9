"""A listing answered from caches is made once per change, and never outlives the change.

``GET /agents`` over a cluster whose cache is current is the same page, and the same
bytes, until the cache changes: then the next answer shows the change. Different
questions (another filter, another page) are different answers. A cluster read live
(its cache not current) names no version, so nothing is kept of it.
"""

from __future__ import annotations

from typing import Any

from asgard.events import EventHub
from asgard.models import Account, Role
from asgard.services.listing import ListRequest
from asgard.services.principal import SYSTEM, Principal
from tests.conftest import KubeCluster, StartAsgard, running_kube
from tests.support.asgard import AsgardUnderTest, Caller
from tests.support.watching import eventually


async def cache_current(dev: Caller) -> bool:
    clusters = (await dev.json("GET", "/clusters"))["clusters"]
    return bool([c["cache"] for c in clusters] == ["current"])


async def cached(
    start_asgard: StartAsgard, kube: KubeCluster
) -> tuple[AsgardUnderTest, Account, Caller]:
    """Asgard over the cluster with its cache on and current; the account ``dev`` and a
    viewer of it."""
    hub = EventHub()
    kube.orchestrator.enable_caches(hub)
    asgard = await start_asgard(kube.orchestrator, hub=hub)
    account = await asgard.account("dev")
    dev = await asgard.caller("dev@example.com", roles={account.id: Role.VIEWER})
    await eventually(lambda: cache_current(dev), "the cache is current", 10)
    return asgard, account, dev


async def page_of(asgard: AsgardUnderTest, account: Account, **query: Any) -> object:
    principal = Principal(user=SYSTEM.user, account=account, role=Role.VIEWER)
    return await asgard.services.agents.list_agents(principal, ListRequest(), attrs=query)


async def test_the_same_question_over_the_same_cache_is_the_same_answer(
    start_asgard: StartAsgard,
) -> None:
    async with running_kube() as kube:
        asgard, account, dev = await cached(start_asgard, kube)

        await page_of(asgard, account)  # the scope's first read, live, makes its entry
        first = await page_of(asgard, account)
        assert await page_of(asgard, account) is first, "made once, given again"
        assert await page_of(asgard, account, zone="b") is not first, "another question"
        body = await (await dev.get("/agents")).read()
        assert await (await dev.get("/agents")).read() == body
        zoned = await dev.json("GET", "/agents/with-attrs?zone=b")
        assert [a["id"] for a in zoned["agents"]] == ["node-2"]

        await kube.controllers.add_node("node-3", labels={"zone": "b"})

        async def shows_the_new_node() -> bool:
            agents = (await dev.json("GET", "/agents"))["agents"]
            return [a["id"] for a in agents] == ["node-1", "node-2", "node-3"]

        await eventually(shows_the_new_node, "the next answer after the change shows it", 10)
        assert await page_of(asgard, account) is not first
        zoned = await dev.json("GET", "/agents/with-attrs?zone=b")
        assert [a["id"] for a in zoned["agents"]] == ["node-2", "node-3"]
        assert (await dev.json("GET", "/agents"))["total"] == 3


async def test_a_cluster_read_live_is_never_kept(start_asgard: StartAsgard) -> None:
    async with running_kube() as kube:
        asgard, account, _ = await cached(start_asgard, kube)
        cache = kube.cluster.cache
        assert cache is not None
        # As when its feed breaks: reads go to the cluster. Not connected either, or the
        # next resync would find every re-read working and call the cache current again.
        cache._connected = cache.current = False

        await page_of(asgard, account)
        first = await page_of(asgard, account)
        assert await page_of(asgard, account) is not first
