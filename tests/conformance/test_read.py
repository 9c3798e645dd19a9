"""Reading agents, apps and tasks: what every backend must get right."""

from __future__ import annotations

import pytest

from asgard.errors import NotFound
from asgard.models import Account
from tests.conformance.harness import Harness

DEV = Account(id=1, name="dev", namespace="dev")
OPS = Account(id=2, name="ops", namespace="ops")


def owned(owner: str | None, namespace: str = "dev") -> Account:
    return Account(id=3, name=f"team-{owner}", namespace=namespace, owner=owner)


async def test_agents_describe_real_machines(harness: Harness) -> None:
    listing = await harness.orchestrator.list_agents(DEV)
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
    listed = (await harness.orchestrator.list_agents(DEV)).items[0]
    fetched = await harness.orchestrator.get_agent(DEV, harness.cluster, listed.id)
    assert fetched.id == listed.id
    assert fetched.hostname == listed.hostname
    assert fetched.resources == listed.resources


async def test_unknown_agent_is_not_found(harness: Harness) -> None:
    with pytest.raises(NotFound):
        await harness.orchestrator.get_agent(DEV, harness.cluster, "no-such-agent")


async def test_unknown_cluster_is_not_found(harness: Harness) -> None:
    with pytest.raises(NotFound):
        await harness.orchestrator.get_agent(DEV, "no-such-cluster", "x")


async def test_agents_are_scoped_by_owner(harness: Harness) -> None:
    agent_id = await harness.set_owner("team-a")

    mine = await harness.orchestrator.list_agents(owned("team-a"))
    assert agent_id in [a.id for a in mine.items]
    assert all(a.attributes.get("owner") == "team-a" for a in mine.items)
    assert (
        await harness.orchestrator.get_agent(owned("team-a"), harness.cluster, agent_id)
    ).id == agent_id

    theirs = await harness.orchestrator.list_agents(owned("team-b"))
    assert agent_id not in [a.id for a in theirs.items]
    with pytest.raises(NotFound):
        await harness.orchestrator.get_agent(owned("team-b"), harness.cluster, agent_id)

    everyone = await harness.orchestrator.list_agents(owned(None))
    assert agent_id in [a.id for a in everyone.items]


async def test_an_account_with_no_allowed_cluster_sees_nothing(harness: Harness) -> None:
    elsewhere = Account(id=4, name="elsewhere", namespace="dev", clusters=["another"])
    assert (await harness.orchestrator.list_agents(elsewhere)).items == []
    with pytest.raises(NotFound):
        await harness.orchestrator.get_agent(elsewhere, harness.cluster, "x")


async def test_apps_of_the_namespace_are_listed_without_it(harness: Harness) -> None:
    await harness.seed_app("dev", "web", instances=2)
    await harness.seed_app("dev", "team/api", instances=1)
    await harness.seed_app("ops", "web", instances=1)

    apps = {a.id: a for a in (await harness.orchestrator.list_apps(DEV)).items}
    assert set(apps) == {"web", "team/api"}
    web = apps["web"]
    assert web.cluster == harness.cluster
    assert web.type == harness.agent_type
    assert web.instances.desired == 2
    assert web.instances.running == 2
    assert web.status == "running"
    assert web.image.startswith("asgard-test/busybox")

    ops = [a.id for a in (await harness.orchestrator.list_apps(OPS)).items]
    assert ops == ["web"]


async def test_one_app_and_its_tasks(harness: Harness) -> None:
    await harness.seed_app("dev", "team/api", instances=2)

    app = await harness.orchestrator.get_app(DEV, harness.cluster, "team/api")
    assert app.id == "team/api"
    assert app.instances.running == 2

    tasks = await harness.orchestrator.list_tasks(DEV, harness.cluster, "team/api")
    assert len(tasks) == 2
    agents = {a.id for a in (await harness.orchestrator.list_agents(DEV)).items}
    for task in tasks:
        assert task.app_id == "team/api"
        assert task.cluster == harness.cluster
        assert task.state == "running"
        assert task.agent_id in agents
        assert task.host


async def test_another_namespace_cannot_read_an_app(harness: Harness) -> None:
    await harness.seed_app("dev", "secret", instances=1)
    with pytest.raises(NotFound):
        await harness.orchestrator.get_app(OPS, harness.cluster, "secret")
    with pytest.raises(NotFound):
        await harness.orchestrator.list_tasks(OPS, harness.cluster, "secret")


async def test_unknown_app_is_not_found(harness: Harness) -> None:
    with pytest.raises(NotFound):
        await harness.orchestrator.get_app(DEV, harness.cluster, "nothing/here")
    with pytest.raises(NotFound):
        await harness.orchestrator.list_tasks(DEV, harness.cluster, "nothing")


async def test_apps_on_an_agent_are_the_accounts_own(harness: Harness) -> None:
    await harness.seed_app("dev", "web", instances=1)
    await harness.seed_app("ops", "db", instances=1)
    agent = (await harness.orchestrator.list_agents(DEV)).items[0]

    assert [
        a.id for a in await harness.orchestrator.list_agent_apps(DEV, harness.cluster, agent.id)
    ] == ["web"]
    assert [
        a.id for a in await harness.orchestrator.list_agent_apps(OPS, harness.cluster, agent.id)
    ] == ["db"]
    assert agent.total_apps == 1


async def test_agent_usage_counts_what_instances_reserve(harness: Harness) -> None:
    before = (await harness.orchestrator.list_agents(DEV)).items[0]
    await harness.seed_app("dev", "heavy", instances=2, cpus=0.25, mem=64)
    after = await harness.orchestrator.get_agent(DEV, harness.cluster, before.id)

    assert after.used_resources.cpus == pytest.approx(before.used_resources.cpus + 0.5)
    assert after.used_resources.mem == pytest.approx(before.used_resources.mem + 128)
    assert after.stats.cpu_pct > before.stats.cpu_pct
