"""The conformance kit covers the whole contract: a kind that passes it cannot leave an
operation of ``asgard/backends/contract.py`` untried, nor a refusal unchecked.

Each check of the kit names the operations it exercises (``asgard.testing.coverage``);
these tests compare what the checks name with the operations the contract marks, so an
operation added to the contract fails here until a check exercises it."""

from __future__ import annotations

from typing import Final

from asgard.backends.cluster import CONTRACT
from asgard.backends.operations import declared
from asgard.models import Capabilities
from asgard.testing.coverage import contract_operations, exercised, operation_name, refused
from asgard.testing.kit import CHECKS

ABOUT_NO_OPERATION: Final = {
    "test_the_cluster_says_what_it_can_do": "the cluster's kind, version and capabilities",
}
NOT_REFUSALS: Final = {
    "checks_images": "without it an unknown image fails later, not at once: nothing refused",
    "job_exit_codes": "without it a job's status has no exit code: nothing refused",
    "own_scheduler": "without it Asgard keeps the schedules: the same checks run either way",
}


def test_every_operation_of_the_contract_is_exercised_by_a_check() -> None:
    covered = {name for check in CHECKS.values() for name in exercised(check)}
    missing = [name for name in contract_operations() if name not in covered]
    assert missing == [], f"operations of the contract no check of the kit exercises: {missing}"


def test_what_a_check_names_is_an_operation_of_the_contract() -> None:
    known = set(contract_operations())
    for name, check in CHECKS.items():
        assert set(exercised(check)) <= known, name
        assert set(refused(check)) <= known, name


def test_every_check_names_what_it_exercises() -> None:
    silent = {name for name, check in CHECKS.items() if not exercised(check) and not refused(check)}
    assert silent == set(ABOUT_NO_OPERATION)


def test_the_refusal_of_every_operation_that_needs_a_capability_is_checked() -> None:
    needing = {
        operation_name(fn)
        for owner in CONTRACT.values()
        for fn, info in declared(owner)
        if info.needs
    }
    checked = {name for check in CHECKS.values() for name in refused(check)}
    assert sorted(needing - checked) == []


def test_every_capability_a_cluster_may_lack_has_a_check_of_its_refusal() -> None:
    """Those operations need are refused by the core, and checked so for every operation;
    those the services refuse (``since``, an input zip, job logs, a timeout) each have a
    check of their own for clusters that lack them (``cannot``)."""
    needed = {n for owner in CONTRACT.values() for _, info in declared(owner) for n in info.needs}
    lacking = {
        flag
        for check in CHECKS.values()
        for mark in getattr(check, "pytestmark", [])
        if mark.name == "cannot"
        for flag in mark.args
    }
    unchecked = set(Capabilities.model_fields) - needed - lacking - set(NOT_REFUSALS)
    assert sorted(unchecked) == []
