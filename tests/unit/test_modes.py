"""A part with modes forwards every operation its contract marks, made from the marks: an
operation added to the contract is dispatched with no code of its own, and Docker's two
modes each answer every operation the other does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from asgard.backends.cluster import CONTRACT
from asgard.backends.contract import AppsBackend, Backend
from asgard.backends.docker.config import DockerClusterConfig
from asgard.backends.docker.plugin import plugin as docker_plugin
from asgard.backends.modes import ByMode
from asgard.backends.operations import Part, operation_of, operations, read
from asgard.backends.registry import BackendContext
from asgard.models import Account

DEV = Account(id=1, name="dev", namespace="dev")


def recording(contract: type[Backend]) -> type[Backend]:
    """A part of ``contract`` whose every operation answers what it was called with."""

    def answer(name: str) -> Any:
        async def op(self: Backend, *args: Any, **kwargs: Any) -> Any:
            return (self.cluster, name, args, kwargs)

        return op

    return type(
        f"Recording{contract.__name__}", (contract,), {n: answer(n) for n in operations(contract)}
    )


def by_mode(contract: type[Backend]) -> type[ByMode[Backend]]:
    found: type[ByMode[Backend]] = type(f"{contract.__name__}ByMode", (ByMode, contract), {})
    return found


class Switch:
    def __init__(self) -> None:
        self.now = "engine"

    async def __call__(self) -> str:
        return self.now


@pytest.mark.parametrize("part", sorted(CONTRACT))
async def test_every_marked_operation_runs_on_the_current_modes_part(part: Part) -> None:
    contract = CONTRACT[part]
    marked = operations(contract)
    assert marked, f"the {part} contract marks no operation"
    made = recording(contract)
    switch = Switch()
    parts = {"engine": made("in-engine", "docker"), "swarm": made("in-swarm", "docker")}
    dispatcher = by_mode(contract).over(parts, switch)
    for name in marked:
        assert await getattr(dispatcher, name)(DEV, "x", follow=True) == (
            "in-engine",
            name,
            (DEV, "x"),
            {"follow": True},
        )
    switch.now = "swarm"
    for name in marked:
        answer = await getattr(dispatcher, name)(DEV)
        assert answer == ("in-swarm", name, (DEV,), {}), f"{name} did not follow the mode"


async def test_an_operation_added_to_the_contract_needs_no_forwarding() -> None:
    class GrownApps(AppsBackend, part="apps"):
        @read
        async def app_colour(self, account: Account, app_id: str) -> str:
            self.unsupported("app colours")

    assert operation_of(GrownApps.app_colour).part == "apps"
    made = recording(GrownApps)
    dispatcher = by_mode(GrownApps).over({"engine": made("c", "docker")}, Switch())
    assert await dispatcher.app_colour(DEV, "web") == ("c", "app_colour", (DEV, "web"), {})  # type: ignore[attr-defined]


def test_a_part_with_modes_may_not_write_an_operation_itself() -> None:
    with pytest.raises(TypeError, match="defines the operation get_app"):

        class Forwarding(ByMode[AppsBackend], AppsBackend):
            async def get_app(self, account: Account, app_id: str) -> Any:
                return await (await self.current()).get_app(account, app_id)


async def test_dockers_parts_pick_a_mode_and_both_modes_answer_the_same_operations(
    tmp_path: Path,
) -> None:
    """A mode that lacked an operation the other has would answer 501 on one engine and
    not the other: every operation either mode implements, both do."""
    config = DockerClusterConfig(name="docker", url="unix:///nonexistent.sock")
    parts = await docker_plugin.parts(config, BackendContext.local(tmp_path, "k" * 32))
    try:
        for part, contract in (
            ("agents", parts.agents),
            ("apps", parts.apps),
            ("jobs", parts.jobs),
        ):
            assert isinstance(contract, ByMode), f"Docker's {part} do not pick a mode"
            assert sorted(contract.modes) == ["engine", "swarm"]
            implemented = {
                mode: {
                    name
                    for name in operations(type(contract))
                    if getattr(type(found), name) is not getattr(CONTRACT[part], name)
                }
                for mode, found in contract.modes.items()
            }
            assert implemented["engine"] == implemented["swarm"], part
            assert implemented["engine"], f"Docker implements none of the {part} operations"
    finally:
        await parts.client.close()


async def test_parts_with_nothing_to_start_do_not_ask_for_the_mode() -> None:
    """An engine down or hanging when Asgard starts must not fail (or delay) the start of
    parts that have no work of their own; a part that has some starts in the current mode."""

    async def unanswered() -> str:
        raise AssertionError("the mode was asked for")

    plain = recording(AppsBackend)
    quiet = by_mode(AppsBackend).over({"engine": plain("c", "docker")}, unanswered)
    await quiet.start()

    started: list[str] = []

    class Busy(plain):  # type: ignore[misc, valid-type]
        async def start(self) -> None:
            started.append(self.cluster)

    switch = Switch()
    switch.now = "swarm"
    busy = by_mode(AppsBackend).over(
        {"engine": Busy("e", "docker"), "swarm": Busy("s", "docker")}, switch
    )
    await busy.start()
    assert started == ["s"]
