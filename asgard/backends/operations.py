"""What each operation of the backend contract is, declared where the operation is.

The contract's methods are marked ``@read``, ``@write(...)`` or ``@listing(...)``. The
mark is all the core needs to run an operation on any cluster: reads go through the
cluster's circuit breaker and its read timeout, writes get the write timeout and are
always tried, a write that ``shows`` or ``removes`` an item updates the cluster's cache
at once, and a ``cached`` listing is answered from the cache kept by the change feed.
So an operation added to the contract needs no code in the core: services call it
through ``Orchestrator.call`` or ``Orchestrator.fan_out`` by naming it
(``AppsBackend.update_app``), and the kind's own method is the one that runs.

An operation a kind may not be able to do says which of the cluster's ``Capabilities``
it needs (``@needs("app_stats")``, or a whole part: ``part="jobs"``): on a cluster that
lacks it, the core answers ``NotSupported`` (501) without asking the kind, and the
conformance kit checks that refusal instead of the operation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Final, Literal, TypeVar

from asgard.backends.feeds import Resource
from asgard.models import Capabilities

__all__ = [
    "OperationInfo",
    "Part",
    "declared",
    "listing",
    "needs",
    "operation_of",
    "operations",
    "read",
    "write",
]

F = TypeVar("F", bound=Callable[..., Any])
Part = Literal["agents", "apps", "jobs", "scheduled_jobs"]
"""Which backend of a cluster an operation belongs to."""

ATTRIBUTE: Final = "__asgard_operation__"


@dataclass(frozen=True)
class OperationInfo:
    """How the core runs one operation of the contract."""

    effect: Literal["read", "write"]
    many: bool = False
    """A listing: across clusters, each cluster's answer is one part of a ``Listing``."""
    cached: Resource | None = None
    """A listing the cluster's cache keeps (asked with the account alone)."""
    shows: Resource | None = None
    """A write that answers with the item it made or changed: the cache shows it at once."""
    removes: Resource | None = None
    """A write that removes the item its first argument names: the cache drops it at once."""
    part: Part | None = None
    """Set by the contract class the operation is declared in."""
    name: str = ""
    needs: tuple[str, ...] = ()
    """The ``Capabilities`` the operation needs: its part's, then its own."""

    @property
    def write(self) -> bool:
        return self.effect == "write"


def _mark(fn: F, info: OperationInfo) -> F:
    setattr(fn, ATTRIBUTE, replace(info, name=fn.__name__))
    return fn


def read(fn: F) -> F:
    """An operation that changes nothing: one cluster, within its read timeout."""
    return _mark(fn, OperationInfo("read"))


def listing(*, cached: Resource | None = None) -> Callable[[F], F]:
    """A read whose answer is a list, gathered from every cluster the account may use."""

    def mark(fn: F) -> F:
        return _mark(fn, OperationInfo("read", many=True, cached=cached))

    return mark


def write(*, shows: Resource | None = None, removes: Resource | None = None) -> Callable[[F], F]:
    """An operation that changes the cluster: within the write timeout, always tried."""

    def mark(fn: F) -> F:
        return _mark(fn, OperationInfo("write", shows=shows, removes=removes))

    return mark


def needs(*capabilities: str) -> Callable[[F], F]:
    """The operation needs these capabilities of the cluster (fields of ``Capabilities``);
    put above its ``@read``/``@write``/``@listing`` mark."""
    for capability in capabilities:
        if capability not in Capabilities.model_fields:
            raise TypeError(f"{capability!r} is not a field of Capabilities")

    def mark(fn: F) -> F:
        info = getattr(fn, ATTRIBUTE, None)
        if not isinstance(info, OperationInfo):
            raise TypeError("@needs goes above the operation's @read, @write or @listing")
        setattr(fn, ATTRIBUTE, replace(info, needs=(*info.needs, *capabilities)))
        return fn

    return mark


def declared(owner: type) -> list[tuple[Callable[..., Any], OperationInfo]]:
    """The operations declared in ``owner`` itself (not inherited), with their marks."""
    found = []
    for value in vars(owner).values():
        info = getattr(value, ATTRIBUTE, None)
        if callable(value) and isinstance(info, OperationInfo):
            found.append((value, info))
    return found


def operations(contract: type) -> dict[str, OperationInfo]:
    """Every operation a part of this contract class answers, by name: those it declares
    and those of the contract classes it derives from. What code written once for every
    operation (a dispatcher, a meta-test) walks, so a new operation needs none of its own."""
    found: dict[str, OperationInfo] = {}
    for owner in reversed(contract.__mro__):
        for _, info in declared(owner):
            if info.part is not None:
                found[info.name] = info
    return found


def claim(owner: type, part: Part, needs: str | None = None) -> None:
    """Record that the operations declared in ``owner`` belong to its cluster part, and
    need what the part needs (``needs``, a field of ``Capabilities``)."""
    if needs is not None and needs not in Capabilities.model_fields:
        raise TypeError(f"{needs!r} is not a field of Capabilities")
    first = (needs,) if needs is not None else ()
    for fn, info in declared(owner):
        setattr(fn, ATTRIBUTE, replace(info, part=part, needs=(*first, *info.needs)))


def operation_of(fn: Callable[..., Any]) -> OperationInfo:
    """The declaration of a contract operation; ``TypeError`` for anything else (a kind's own
    method, or a function that is not part of the contract)."""
    info = getattr(fn, ATTRIBUTE, None)
    if not isinstance(info, OperationInfo) or info.part is None:
        raise TypeError(f"{getattr(fn, '__qualname__', fn)!r} is not an operation of the contract")
    return info
