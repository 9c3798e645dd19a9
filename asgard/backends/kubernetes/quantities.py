"""Kubernetes resource quantities: ``500m``, ``2``, ``8Gi``, ``1e9``, ``128974848``, ``1.5``.

The grammar (apimachinery's ``resource.Quantity``): a signed decimal number,
then a binary suffix (Ki Mi Gi Ti Pi Ei), a decimal suffix (n u m "" k M G T
P E), or a decimal exponent (e3, E-2). Parsed exactly with ``Decimal``.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
DECIMAL = {
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "": Decimal(1),
    "k": Decimal("1e3"),
    "M": Decimal("1e6"),
    "G": Decimal("1e9"),
    "T": Decimal("1e12"),
    "P": Decimal("1e15"),
    "E": Decimal("1e18"),
}
_QUANTITY = re.compile(
    r"^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)$"
)

MiB = 2**20


def parse_quantity(value: str | int | float) -> Decimal:
    """The quantity as a number; ``ValueError`` naming the text when it is not one."""
    if isinstance(value, int | float):
        return Decimal(str(value))
    text = value.strip()
    match = _QUANTITY.match(text)
    if not match:
        raise ValueError(f"not a Kubernetes quantity: {value!r}")
    number, exponent, suffix = match.groups()
    try:
        amount = Decimal(number)
    except InvalidOperation:
        raise ValueError(f"not a Kubernetes quantity: {value!r}") from None
    if exponent:
        return amount * Decimal(10) ** int(exponent[1:])
    if suffix in BINARY:
        return amount * BINARY[suffix]
    return amount * DECIMAL[suffix or ""]


def cpu_cores(value: str | int | float | None) -> float:
    return float(parse_quantity(value)) if value not in (None, "") else 0.0


def mebibytes(value: str | int | float | None) -> float:
    return float(parse_quantity(value) / MiB) if value not in (None, "") else 0.0


def cpu_quantity(cores: float) -> str:
    """Cores as Kubernetes writes them: millicores."""
    return f"{round(cores * 1000)}m"


def memory_quantity(mib: float) -> str:
    return f"{round(mib)}Mi" if float(mib).is_integer() else f"{round(mib * MiB)}"
