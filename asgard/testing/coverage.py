"""What each check of the kit exercises of the contract, declared on the check.

A check names the operations it calls (``@exercises(AppsBackend.app_logs)``). It then
exists only for harnesses whose cluster has what those operations need (a ``can`` mark
for each capability their ``@needs`` name), and a meta-test of the repository compares
what all checks exercise with the contract (``contract_operations``): an operation no
check exercises fails it. The check of what a cluster lacks names the operations whose
refusal it checks (``@refuses``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, TypeVar

import pytest

from asgard.backends.cluster import CONTRACT
from asgard.backends.operations import declared, operation_of

__all__ = ["contract_operations", "exercised", "exercises", "operation_name", "refused", "refuses"]

F = TypeVar("F", bound=Callable[..., Any])
EXERCISED: Final = "__kit_exercises__"
REFUSED: Final = "__kit_refuses__"


def operation_name(op: Callable[..., Any]) -> str:
    """``AppsBackend.app_logs``: how the kit and its meta-test name an operation."""
    info = operation_of(op)
    assert info.part is not None
    return f"{CONTRACT[info.part].__name__}.{info.name}"


def contract_operations() -> list[str]:
    """Every operation of the contract, by name, part by part."""
    return [operation_name(fn) for owner in CONTRACT.values() for fn, _ in declared(owner)]


def exercises(*ops: Callable[..., Any], marked: bool = True) -> Callable[[F], F]:
    """The check calls these operations. Unless ``marked`` is false (a check that calls
    some of them only where the cluster can, such as the isolation checks), it is marked
    ``can`` with every capability they need."""
    names = tuple(operation_name(op) for op in ops)
    needed = sorted({n for op in ops for n in operation_of(op).needs}) if marked else []

    def mark(check: F) -> F:
        setattr(check, EXERCISED, (*getattr(check, EXERCISED, ()), *names))
        for capability in needed:
            check = pytest.mark.can(capability)(check)
        return check

    return mark


def refuses(*ops: Callable[..., Any]) -> Callable[[F], F]:
    """The check proves these operations are refused where the cluster lacks what they
    need (it marks itself; see ``asgard.testing.capabilities``)."""
    names = tuple(operation_name(op) for op in ops)

    def mark(check: F) -> F:
        setattr(check, REFUSED, (*getattr(check, REFUSED, ()), *names))
        return check

    return mark


def exercised(check: Callable[..., Any]) -> tuple[str, ...]:
    return tuple(getattr(check, EXERCISED, ()))


def refused(check: Callable[..., Any]) -> tuple[str, ...]:
    return tuple(getattr(check, REFUSED, ()))
