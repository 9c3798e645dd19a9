"""Every form a Kubernetes quantity takes."""

from __future__ import annotations

from decimal import Decimal

import pytest

from asgard.backends.kubernetes.quantities import (
    cpu_cores,
    cpu_quantity,
    mebibytes,
    memory_quantity,
    parse_quantity,
)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("500m", Decimal("0.5")),
        ("2", Decimal(2)),
        ("1.5", Decimal("1.5")),
        ("8Gi", Decimal(8 * 2**30)),
        ("100Ki", Decimal(102400)),
        ("1M", Decimal(10**6)),
        ("1e9", Decimal(10**9)),
        ("1E3", Decimal(1000)),
        ("128974848", Decimal(128974848)),
        ("250u", Decimal("0.00025")),
        ("100n", Decimal("1E-7")),
        ("0.5Gi", Decimal(2**29)),
        ("+1k", Decimal(1000)),
        (".5", Decimal("0.5")),
        (3, Decimal(3)),
    ],
)
def test_quantities_parse_exactly(text: str | int, value: Decimal) -> None:
    assert parse_quantity(text) == value


@pytest.mark.parametrize("text", ["", "abc", "1.2.3", "5 Gi", "Gi", "1Zi", "1e"])
def test_nonsense_is_refused_with_the_text(text: str) -> None:
    with pytest.raises(ValueError, match="not a Kubernetes quantity"):
        parse_quantity(text)


def test_cpu_and_memory_in_asgards_units() -> None:
    assert cpu_cores("250m") == 0.25
    assert cpu_cores(None) == 0.0
    assert mebibytes("128974848") == pytest.approx(123.0, abs=0.01)
    assert mebibytes("1Gi") == 1024
    assert cpu_quantity(0.25) == "250m"
    assert memory_quantity(64) == "64Mi"
    assert mebibytes(memory_quantity(64.5)) == pytest.approx(64.5)
