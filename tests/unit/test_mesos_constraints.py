"""Marathon constraints read back as Asgard's: only what == and != say truly."""

from __future__ import annotations

from asgard.backends.mesos.converters import (
    constraints_from_marathon,
    constraints_to_marathon,
    with_owner,
)


def test_marathon_constraints_read_back_keep_only_what_asgard_can_say() -> None:
    found = [
        ["owner", "LIKE", "team-a"],  # forced by Asgard: shown, as on every kind
        ["rack", "CLUSTER", "r1"],
        ["zone", "IS", "eu"],
        ["dc", "LIKE", "gcp"],
        ["host", "LIKE", "node-[0-9]+"],  # a pattern: no == says it
        ["workload", "UNLIKE", "batch"],
        ["tier", "UNLIKE", "(dev|test)"],
        ["hostname", "UNIQUE"],
        ["rack", "GROUP_BY", "2"],
    ]
    assert constraints_from_marathon(found) == [
        "owner==team-a",
        "rack==r1",
        "zone==eu",
        "dc==gcp",
        "workload!=batch",
    ]


def test_asgard_constraints_become_marathon_ones_with_the_owner_forced() -> None:
    wanted = ["rack==r1", "workload!=batch", "owner==team-a"]  # as a read app shows them
    assert constraints_to_marathon(wanted, "team-a") == [
        ["rack", "CLUSTER", "r1"],
        ["workload", "UNLIKE", "batch"],
        ["owner", "LIKE", "team-a"],
    ]


def test_an_update_keeps_what_marathon_has_and_forces_the_owner() -> None:
    current = [["hostname", "UNIQUE"], ["owner", "LIKE", "someone-else"], ["dc", "LIKE", "a.*"]]
    assert with_owner(current, "team-a") == [
        ["hostname", "UNIQUE"],
        ["dc", "LIKE", "a.*"],
        ["owner", "LIKE", "team-a"],
    ]
    assert with_owner(current, None) == current, "no owner: nothing is forced or taken away"
