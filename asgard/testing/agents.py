"""Agents: the machines of a cluster, scoped by owner, and what runs and is reserved on
them. What every kind must get right."""

from __future__ import annotations

import pytest

from asgard.backends.contract import AgentsBackend
from asgard.errors import NotFound
from asgard.models import Account
from asgard.testing.common import DEV, OPS, owned
from asgard.testing.coverage import exercises
from asgard.testing.harness import Harness

__all__ = [
    "test_agent_usage_counts_what_instances_reserve",
    "test_agents_are_scoped_by_owner",
    "test_agents_describe_real_machines",
    "test_an_account_with_no_allowed_cluster_sees_nothing",
    "test_apps_on_an_agent_are_the_accounts_own",
    "test_meters_name_only_listed_agents_with_plausible_figures",
    "test_one_agent_is_the_one_listed",
    "test_unknown_agent_is_not_found",
    "test_unknown_cluster_is_not_found",
]


@exercises(AgentsBackend.list_agents)
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


@exercises(AgentsBackend.list_agents, AgentsBackend.get_agent)
async def test_one_agent_is_the_one_listed(harness: Harness) -> None:
    listed = (await harness.listing(DEV, AgentsBackend.list_agents)).items[0]
    fetched = await harness.call(DEV, AgentsBackend.get_agent, listed.id)
    assert fetched.id == listed.id
    assert fetched.hostname == listed.hostname
    assert fetched.resources == listed.resources


@exercises(AgentsBackend.list_agents, AgentsBackend.measure_agents)
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


@exercises(AgentsBackend.get_agent)
async def test_unknown_agent_is_not_found(harness: Harness) -> None:
    with pytest.raises(NotFound):
        await harness.call(DEV, AgentsBackend.get_agent, "no-such-agent")


@exercises(AgentsBackend.get_agent)
async def test_unknown_cluster_is_not_found(harness: Harness) -> None:
    with pytest.raises(NotFound):
        await harness.orchestrator.call(DEV, "no-such-cluster", AgentsBackend.get_agent, "x")


@exercises(AgentsBackend.list_agents, AgentsBackend.get_agent)
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


@exercises(AgentsBackend.list_agents, AgentsBackend.get_agent)
async def test_an_account_with_no_allowed_cluster_sees_nothing(harness: Harness) -> None:
    elsewhere = Account(id=4, name="elsewhere", namespace="dev", clusters=["another"])
    assert (await harness.listing(elsewhere, AgentsBackend.list_agents)).items == []
    with pytest.raises(NotFound):
        await harness.call(elsewhere, AgentsBackend.get_agent, "x")


@pytest.mark.can("apps")
@exercises(AgentsBackend.list_agents, AgentsBackend.list_agent_apps)
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


@pytest.mark.can("apps")
@exercises(AgentsBackend.list_agents, AgentsBackend.get_agent)
async def test_agent_usage_counts_what_instances_reserve(harness: Harness) -> None:
    before = (await harness.listing(DEV, AgentsBackend.list_agents)).items[0]
    await harness.seed_app("dev", "heavy", instances=2, cpus=0.25, mem=64)
    after = await harness.call(DEV, AgentsBackend.get_agent, before.id)

    assert after.used_resources.cpus == pytest.approx(before.used_resources.cpus + 0.5)
    assert after.used_resources.mem == pytest.approx(before.used_resources.mem + 128)
    assert after.stats.cpu_pct > before.stats.cpu_pct
