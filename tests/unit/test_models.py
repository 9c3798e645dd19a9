"""Arithmetic the domain models do: percentages and sums of resources."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from asgard.models import AppSpec, Resources, UsageStats
from asgard.models.base import round_up_pct


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1.374 / 2.5 * 100, 54.96),  # 54.96000000000001: float noise is not a fraction
        (12.341, 12.35),  # a real fraction of a hundredth rounds up
        (33.333333, 33.34),
        (0.001, 0.01),
        (100.0, 100.0),
        (0.0, 0.0),
        (-3.0, 0.0),
    ],
)
def test_percentages_round_up_to_two_decimals(value: float, expected: float) -> None:
    assert round_up_pct(value) == expected


def test_resources_sum_field_by_field() -> None:
    parts = [Resources(cpus=0.5, mem=128, disk=10, gpus=1), Resources(cpus=1.25, mem=64)]
    total = Resources.total(parts)
    assert total == Resources(cpus=1.75, mem=192, disk=10, gpus=1)
    assert parts[0] + parts[1] == total
    assert Resources.total([]) == Resources()
    assert total.model_dump() == {"cpus": 1.75, "mem": 192.0, "disk": 10.0, "gpus": 1.0}


def test_usage_is_used_over_total() -> None:
    stats = UsageStats.of(Resources(cpus=1, mem=100), Resources(cpus=3, mem=400))
    assert (stats.cpu_pct, stats.ram_pct) == (33.34, 25.0)
    assert UsageStats.of(Resources(cpus=1), Resources()).cpu_pct == 0.0


@pytest.mark.parametrize(
    ("given", "taken"),
    [
        ("zone==eu1", "zone==eu1"),
        (["zone", "CLUSTER", "eu1"], "zone==eu1"),
        (["zone", "LIKE", "eu1"], "zone==eu1"),
        (["hostname", "LIKE", "node1.example.com"], "hostname==node1.example.com"),
        (["workload", "UNLIKE", "batch"], "workload!=batch"),
        (["rack", "IS", "r(1)"], "rack==r(1)"),  # IS and CLUSTER take the value as it is
    ],
)
def test_constraints_take_marathon_triplets_that_mean_an_exact_match(
    given: object, taken: str
) -> None:
    spec = AppSpec.model_validate(
        {"cluster": "c", "id": "web", "image": "x", "constraints": [given]}
    )
    assert spec.constraints == [taken]


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        (["zone", "LIKE", "eu-(1|2)"], "regular expression"),
        (["hostname", "UNIQUE"], "Marathon constraint [attribute, operator, value]"),
        (["zone", "GROUP_BY", "3"], "GROUP_BY cannot be placed"),
        (["zone", "CLUSTER", 3], "Marathon constraint"),
        ("zone=eu1", "'<attribute>==<value>'"),
    ],
)
def test_constraints_that_cannot_be_placed_everywhere_are_refused_with_the_reason(
    given: object, reason: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        AppSpec.model_validate({"cluster": "c", "id": "web", "image": "x", "constraints": [given]})
    [error] = refused.value.errors()
    assert error["loc"] == ("constraints", 0)
    assert reason in error["msg"]
