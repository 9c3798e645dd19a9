"""A cluster that works in several modes: each mode implements the contract's parts, and
one part per contract class picks the mode's at every call.

A Docker Engine is a Swarm manager or a single engine, and can become a Swarm while
Asgard runs (``docker swarm init``): its apps are then services instead of labelled
containers, its agents nodes instead of the host. Each mode is a whole implementation of
the contract's parts (``EngineApps(AppsBackend)``, ``SwarmApps(AppsBackend)``); what the
cluster is given is a ``ByMode`` part, which asks the cluster's mode and runs the
operation on that mode's part.

Nothing here is written per operation: ``ByMode`` forwards every operation its contract
class marks (``asgard.backends.operations.operations``), when the class is made. An
operation added to the contract is dispatched by every such part with no code of its
own, and the kinds only implement it in each mode.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Generic, Self, TypeVar

from asgard.backends.contract import (
    AgentsBackend,
    AppsBackend,
    Backend,
    JobsBackend,
    ScheduledJobsBackend,
)
from asgard.backends.operations import operations

__all__ = [
    "AgentsByMode",
    "AppsByMode",
    "ByMode",
    "JobsByMode",
    "Mode",
    "ScheduledJobsByMode",
]

B = TypeVar("B", bound=Backend)
Mode = Callable[[], Awaitable[str]]
"""Which mode the cluster is in now, by name (``"engine"``, ``"swarm"``)."""


def _forward(name: str) -> Callable[..., Awaitable[Any]]:
    async def forward(self: ByMode[Backend], *args: Any, **kwargs: Any) -> Any:
        return await getattr(await self.current(), name)(*args, **kwargs)

    forward.__name__ = forward.__qualname__ = name
    forward.__doc__ = f"``{name}`` of the part of the mode the cluster is in now."
    return forward


class ByMode(Backend, Generic[B]):
    """The part a cluster with modes gives: every operation of its contract class runs on
    the part of the mode the cluster is in when it is called.

    A subclass names its contract class beside it (``class AppsByMode(ByMode[B],
    AppsBackend)``); every operation that class marks is forwarded, made here once. A
    subclass may add the background work its modes share (a janitor), never an
    operation. ``start`` starts the current mode's part (a mode entered later has
    nothing of its own to resume: its parts' work begins with their operations);
    ``close`` closes every mode's part."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in operations(cls):
            if name in vars(cls):
                raise TypeError(
                    f"{cls.__qualname__} defines the operation {name}: a mode's part "
                    "implements operations, the part that picks the mode only forwards them"
                )
            setattr(cls, name, _forward(name))

    def __init__(self, modes: Mapping[str, B], mode: Mode) -> None:
        first = next(iter(modes.values()))
        super().__init__(first.cluster, first.kind)
        self.modes: dict[str, B] = dict(modes)
        self.mode = mode

    @classmethod
    def over(cls, modes: Mapping[str, B], mode: Mode) -> Self:
        """The part that runs each operation on ``modes[await mode()]``. What to call
        rather than the class: its operations are made when the class is, which a type
        checker does not see, so it would take the contract's abstract ones as missing."""
        return cls(modes, mode)

    async def current(self) -> B:
        """The part of the mode the cluster is in now."""
        return self.modes[await self.mode()]

    async def start(self) -> None:
        """Start the current mode's part. Where no mode's part has work of its own to
        start, the mode is not asked for: an engine down or hanging when Asgard starts
        then fails (and delays) nothing here."""
        if any(type(part).start is not Backend.start for part in self.modes.values()):
            await (await self.current()).start()

    async def close(self) -> None:
        for part in self.modes.values():
            await part.close()


A = TypeVar("A", bound=AgentsBackend)
P = TypeVar("P", bound=AppsBackend)
J = TypeVar("J", bound=JobsBackend)
S = TypeVar("S", bound=ScheduledJobsBackend)


class AgentsByMode(ByMode[A], AgentsBackend, Generic[A]):
    """The agents of the mode the cluster is in."""


class AppsByMode(ByMode[P], AppsBackend, Generic[P]):
    """The apps of the mode the cluster is in."""


class JobsByMode(ByMode[J], JobsBackend, Generic[J]):
    """The one-time jobs of the mode the cluster is in."""


class ScheduledJobsByMode(ByMode[S], ScheduledJobsBackend, Generic[S]):
    """The scheduled jobs of the mode the cluster is in."""
