"""Reading agents, apps and tasks: what every backend must get right."""

from __future__ import annotations

import pytest

from asgard.backends.contract import AgentsBackend, AppsBackend
from asgard.errors import NotFound
from asgard.models import Account
from asgard.testing.harness import Harness

DEV = Account(id=1, name="dev", namespace="dev")
OPS = Account(id=2, name="ops", namespace="ops")


def owned(owner: str | None, namespace: str = "dev") -> Account:
    return Account(id=3, name=f"team-{owner}", namespace=namespace, owner=owner)


async def test_the_cluster_says_what_it_can_do(harness: Harness) -> None:
    assert harness.orchestrator.kind(DEV, harness.cluster) == harness.kind
    assert harness.orchestrator.capabilities(DEV, harness.cluster) == harness.capabilities
    [status] = await harness.orchestrator.statuses(DEV)
    assert status.status == "ok", status.error
    assert status.name == harness.cluster
    assert status.version
    assert status.capabilities == harness.capabilities


async def test_agents_describe_real_machines(harness: Harness) -> None:
    listing = await harness.listing(DEV, AgentsBackend.list_agents)
    assert listing.errors == []
    assert listing.items, "a cluster has at least one agent"
    for agent in listing.items:
        assert agent.cluster == harness.cluster
        assert agent.type == harness.agent_type
        assert agent.hostname
        assert agent.active
        assert agent.resources.cpus > 0
        assert agent.resources.mem > 0


async def test_one_agent_is_the_one_listed(harness: Harness) -> None:
    listed = (await harness.listing(DEV, AgentsBackend.list_agents)).items[0]
    fetched = await harness.call(DEV, AgentsBackend.get_agent, listed.id)
    assert fetched.id == listed.id
    assert fetched.hostname == listed.hostname
    assert fetched.resources == listed.resources


async def test_meters_name_only_listed_agents_with_plausible_figures(harness: Harness) -> None:
    """``measure_agents`` may know no meter (``{}``); what it answers is in use now, on
    agents ``list_agents`` gave, never negative and never more memory than an agent has."""
    listed = {a.id: a for a in (await harness.listing(DEV, AgentsBackend.list_agents)).items}
    measured = await harness.call(DEV, AgentsBackend.measure_agents)
    assert isinstance(measured, dict)
    for agent_id, in_use in measured.items():
        assert agent_id in listed, f"a meter for an agent not listed: {agent_id}"
        assert in_use.cpus >= 0
        assert 0 <= in_use.mem <= listed[agent_id].resources.mem


async def test_unknown_agent_is_not_found(harness: Harness) -> None:
    with pytest.raises(NotFound):
        await harness.call(DEV, AgentsBackend.get_agent, "no-such-agent")


async def test_unknown_cluster_is_not_found(harness: Harness) -> None:
    with pytest.raises(NotFound):
        await harness.orchestrator.call(DEV, "no-such-cluster", AgentsBackend.get_agent, "x")


async def test_agents_are_scoped_by_owner(harness: Harness) -> None:
    agent_id = await harness.set_owner("team-a")

    mine = await harness.listing(owned("team-a"), AgentsBackend.list_agents)
    assert agent_id in [a.id for a in mine.items]
    assert all(a.attributes.get("owner") == "team-a" for a in mine.items)
    assert (await harness.call(owned("team-a"), AgentsBackend.get_agent, agent_id)).id == agent_id

    theirs = await harness.listing(owned("team-b"), AgentsBackend.list_agents)
    assert agent_id not in [a.id for a in theirs.items]
    with pytest.raises(NotFound):
        await harness.call(owned("team-b"), AgentsBackend.get_agent, agent_id)

    everyone = await harness.listing(owned(None), AgentsBackend.list_agents)
    assert agent_id in [a.id for a in everyone.items]


async def test_an_account_with_no_allowed_cluster_sees_nothing(harness: Harness) -> None:
    elsewhere = Account(id=4, name="elsewhere", namespace="dev", clusters=["another"])
    assert (await harness.listing(elsewhere, AgentsBackend.list_agents)).items == []
    with pytest.raises(NotFound):
        await harness.call(elsewhere, AgentsBackend.get_agent, "x")


async def test_apps_of_the_namespace_are_listed_without_it(harness: Harness) -> None:
    await harness.seed_app("dev", "web", instances=2)
    await harness.seed_app("dev", "team/api", instances=1)
    await harness.seed_app("ops", "web", instances=1)

    apps = {a.id: a for a in (await harness.listing(DEV, AppsBackend.list_apps)).items}
    assert set(apps) == {"web", "team/api"}
    web = apps["web"]
    assert web.cluster == harness.cluster
    assert web.type == harness.agent_type
    assert web.instances.desired == 2
    assert web.instances.running == 2
    assert web.status == "running"
    assert web.image.startswith(harness.image.rsplit(":", 1)[0])

    ops = [a.id for a in (await harness.listing(OPS, AppsBackend.list_apps)).items]
    assert ops == ["web"]


async def test_one_app_and_its_tasks(harness: Harness) -> None:
    await harness.seed_app("dev", "team/api", instances=2)

    app = await harness.call(DEV, AppsBackend.get_app, "team/api")
    assert app.id == "team/api"
    assert app.instances.running == 2

    tasks = await harness.call(DEV, AppsBackend.list_tasks, "team/api")
    assert len(tasks) == 2
    agents = {a.id for a in (await harness.listing(DEV, AgentsBackend.list_agents)).items}
    for task in tasks:
        assert task.app_id == "team/api"
        assert task.cluster == harness.cluster
        assert task.state == "running"
        assert task.agent_id in agents
        assert task.host


async def test_another_namespace_cannot_read_an_app(harness: Harness) -> None:
    await harness.seed_app("dev", "secret", instances=1)
    with pytest.raises(NotFound):
        await harness.call(OPS, AppsBackend.get_app, "secret")
    with pytest.raises(NotFound):
        await harness.call(OPS, AppsBackend.list_tasks, "secret")


async def test_unknown_app_is_not_found(harness: Harness) -> None:
    with pytest.raises(NotFound):
        await harness.call(DEV, AppsBackend.get_app, "nothing/here")
    with pytest.raises(NotFound):
        await harness.call(DEV, AppsBackend.list_tasks, "nothing")


async def test_apps_on_an_agent_are_the_accounts_own(harness: Harness) -> None:
    await harness.seed_app("dev", "web", instances=1)
    await harness.seed_app("ops", "db", instances=1)
    agent = (await harness.listing(DEV, AgentsBackend.list_agents)).items[0]

    assert [a.id for a in await harness.call(DEV, AgentsBackend.list_agent_apps, agent.id)] == [
        "web"
    ]
    assert [a.id for a in await harness.call(OPS, AgentsBackend.list_agent_apps, agent.id)] == [
        "db"
    ]
    assert agent.total_apps == 1


async def test_agent_usage_counts_what_instances_reserve(harness: Harness) -> None:
    before = (await harness.listing(DEV, AgentsBackend.list_agents)).items[0]
    await harness.seed_app("dev", "heavy", instances=2, cpus=0.25, mem=64)
    after = await harness.call(DEV, AgentsBackend.get_agent, before.id)

    assert after.used_resources.cpus == pytest.approx(before.used_resources.cpus + 0.5)
    assert after.used_resources.mem == pytest.approx(before.used_resources.mem + 128)
    assert after.stats.cpu_pct > before.stats.cpu_pct
