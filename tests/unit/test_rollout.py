"""The rollout the single engine and the local kind share: successor first, undone when a
step fails, scaled when only the count changes; placement and a rollback's refusal.

The instances here are records of a list: the rollout is what is tested, on what a kind
gives it (``Instances``). The real ones are tested on dockerd (``tests/docker``) and on
the host (``examples/local/tests``)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest

from asgard.backends.rollout import (
    AppLocks,
    Instances,
    deploy,
    launch,
    patched,
    roll,
    scale,
    unmet,
)
from asgard.errors import Conflict, InvalidValue
from asgard.models import Account, AppPatch, AppSpec

OLD = AppSpec(cluster="c", id="web", image="busybox", env={"V": "1"}, instances=3)
NEW = OLD.model_copy(update={"env": {"V": "2"}})


@dataclass(frozen=True)
class Made:
    number: int
    version: str


@dataclass
class Fleet(Instances[Made]):
    """Instances as numbered records; ``refuse`` makes the n-th start fail, ``shaky`` the
    successors of that version fail to run steadily."""

    refuse: int | None = None
    shaky: str | None = None
    said: list[str] = field(default_factory=list)
    made: int = 0

    async def start(self, spec: AppSpec) -> Made:
        self.made += 1
        if self.made == self.refuse:
            self.said.append(f"refused {spec.env['V']}")
            raise InvalidValue("no such program", field="cmd")
        instance = Made(self.made, spec.env["V"])
        self.said.append(f"started {instance.number}")
        return instance

    async def retire(self, instance: Made) -> None:
        await asyncio.sleep(0)  # a retiring that takes a moment, as stopping does
        self.said.append(f"retired {instance.number}")

    async def discard(self, instance: Made) -> None:
        self.said.append(f"discarded {instance.number}")

    async def steady(self, instance: Made, spec: AppSpec) -> None:
        if instance.version == self.shaky:
            raise InvalidValue(f"instance {instance.number} ended at once", field="cmd")


async def running_old(fleet: Fleet, count: int = 3) -> list[Made]:
    running: list[Made] = []
    await launch(fleet, running, OLD, count)
    fleet.said.clear()
    return running


async def test_each_instance_is_replaced_by_its_successor_started_first() -> None:
    fleet = Fleet()
    running = await running_old(fleet)
    await roll(fleet, running, OLD, NEW)
    assert [m.version for m in running] == ["2", "2", "2"]
    for old, new in ((1, 4), (2, 5), (3, 6)):
        assert fleet.said.index(f"started {new}") < fleet.said.index(f"retired {old}")


async def test_a_successor_that_cannot_start_undoes_the_rollout() -> None:
    """The second successor fails: the first is removed, and the predecessor it had
    replaced runs again, of the old spec; the app has its three old instances."""
    fleet = Fleet(refuse=5)
    running = await running_old(fleet)
    with pytest.raises(InvalidValue, match="no such program"):
        await roll(fleet, running, OLD, NEW)
    assert "discarded 4" in fleet.said
    assert "retired 1" in fleet.said
    assert [m.version for m in running] == ["1", "1", "1"]
    assert [m.number for m in running] == [2, 3, 6], "the retired one started again"


async def test_a_successor_that_does_not_run_steadily_undoes_the_rollout() -> None:
    fleet = Fleet(shaky="2")
    running = await running_old(fleet)
    with pytest.raises(InvalidValue, match="ended at once"):
        await roll(fleet, running, OLD, NEW)
    assert fleet.said == ["started 4", "discarded 4"], "no predecessor was touched"
    assert [m.number for m in running] == [1, 2, 3]


async def test_a_count_alone_scales_newest_first_and_a_failed_start_leaves_nothing() -> None:
    fleet = Fleet()
    running = await running_old(fleet)
    await deploy(fleet, running, OLD, OLD.model_copy(update={"instances": 1}))
    assert [m.number for m in running] == [1]
    assert fleet.said == ["retired 3", "retired 2"], "newest first, nothing replaced"

    fleet.refuse = fleet.made + 3
    with pytest.raises(InvalidValue):
        await scale(fleet, running, OLD.model_copy(update={"instances": 5}))
    assert [m.number for m in running] == [1], "what the failed scale started is gone"
    assert {"discarded 4", "discarded 5"} <= set(fleet.said)


async def test_any_other_change_rolls_even_with_a_new_count() -> None:
    fleet = Fleet()
    running = await running_old(fleet, 2)
    await deploy(fleet, running, OLD, NEW.model_copy(update={"instances": 3}))
    assert [m.version for m in running] == ["2", "2", "2"]
    assert {"retired 1", "retired 2"} <= set(fleet.said)


def test_the_one_agent_must_be_the_owners_and_meet_the_constraints() -> None:
    owned = Account(id=1, name="pay", namespace="pay", owner="team-a")
    plain = Account(id=2, name="dev", namespace="dev")
    attributes = {"owner": "team-a", "zone": "eu"}
    assert unmet(attributes, owned, ["zone==eu"], agent="this host") is None
    assert unmet({}, owned, [], agent="this host") == (
        "this host is not an agent of owner 'team-a'"
    )
    assert unmet(attributes, plain, ["zone!=eu"], agent="this engine") == (
        "this engine does not satisfy the constraint zone!=eu"
    )


def test_a_patch_replaces_what_it_sends_and_keeps_the_rest() -> None:
    changed = patched(OLD, AppPatch(instances=5))
    assert changed == OLD.model_copy(update={"instances": 5})


async def test_a_rollback_is_refused_while_a_change_rolls() -> None:
    locks = AppLocks("c")
    async with locks.change("dev", "web"):
        assert locks.busy("dev", "web")
        with pytest.raises(Conflict, match="is being deployed"):
            locks.rollback("dev", "web")
        locks.rollback("dev", "other")  # another app is free
    async with locks.rollback("dev", "web"):
        assert locks.busy("dev", "web")
