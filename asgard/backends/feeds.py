"""Change feeds: how a cluster tells Asgard that something changed.

A feed yields ``Signal``s (what kind of thing changed, in which namespace when
known); the cache then reads again what the signal touches. A feed that knows which
items changed says so (``Signal.ids``); a kind that can also read those items alone,
from what it holds (``ItemReader``), opts in to the cache updating them alone. Kinds with a change
stream (Docker's ``/events``, Kubernetes watches) implement ``ClusterFeed``;
kinds without one get ``PollingFeed``, which signals everything on a timer.
Whatever the feed, caches also re-read everything every ``resync_s``: a missed
event costs at most that long.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import aiohttp

from asgard.errors import AsgardError
from asgard.models import Account

Resource = Literal["agents", "apps", "tasks", "jobs"]
RESOURCES: tuple[Resource, ...] = ("agents", "apps", "tasks", "jobs")


@dataclass(frozen=True)
class Signal:
    """Something of ``resources`` changed; in ``namespace``, or anywhere when None."""

    resources: frozenset[Resource]
    namespace: str | None = None
    ids: Mapping[Resource, frozenset[str]] = field(default_factory=dict, compare=False)
    """For a resource named here, only the items of these ids changed (agents anywhere,
    the rest in ``namespace``); a resource not named here may have changed anywhere."""

    @classmethod
    def everything(cls) -> Signal:
        return cls(frozenset(RESOURCES))

    def touches(self, resource: Resource, namespace: str) -> bool:
        """Whether what a scope of ``resource`` in ``namespace`` holds may have changed
        (agents are shared by every namespace)."""
        return resource in self.resources and (
            self.namespace is None or resource == "agents" or namespace == self.namespace
        )


class ClusterFeed(ABC):
    @abstractmethod
    def signals(self) -> AsyncIterator[Signal]:
        """Signals until the feed breaks (it then raises, or ends); the cache reconnects."""


class NotCurrent(Exception):
    """An ``ItemReader`` cannot tell the items now: the scope is to be read whole."""


class ItemReader(ABC):
    """How a kind whose feed names the items that changed reads just those, for a scope.

    Kinds without one (or whose reader raises ``NotCurrent``) have every scope a signal
    touches read again whole; the differences sent to ``/events`` are the same."""

    @abstractmethod
    async def read_items(
        self, resource: Resource, account: Account, ids: frozenset[str]
    ) -> dict[str, Any]:
        """The items among ``ids`` that ``account`` sees now, by id; an id not in the answer
        is gone from what it sees."""


class PollingFeed(ClusterFeed):
    """For clusters that announce nothing: 'everything may have changed', every ``every_s``."""

    def __init__(self, every_s: float) -> None:
        self.every_s = every_s

    async def signals(self) -> AsyncIterator[Signal]:
        while True:
            await asyncio.sleep(self.every_s)
            yield Signal.everything()


class Nudges:
    """Changes a backend makes that its cluster announces nowhere.

    A Docker job that ended is shown running until Asgard has kept its output; keeping
    it is Asgard's own work, so no engine event says the job now shows as ended. The
    backend tells its ``Nudges``, and the cluster's cache (which listens once enabled)
    reads again what the signal touches, as for a signal from the feed."""

    def __init__(self) -> None:
        self._listeners: list[Callable[[Signal], None]] = []

    def listen(self, listener: Callable[[Signal], None]) -> None:
        self._listeners.append(listener)

    def tell(self, signal: Signal) -> None:
        for listener in self._listeners:
            listener(signal)


class FeedEnded(Exception):
    """A change feed never ends of itself: one that did is reconnected, after a back-off."""


FEED_FAILURES = (AsgardError, FeedEnded, OSError, TimeoutError, aiohttp.ClientError)
"""How a feed breaks when its cluster or the network does: logged without a traceback."""
