"""Change feeds: how a cluster tells Asgard that something changed.

A feed yields ``Signal``s (what kind of thing changed, in which namespace when
known); the cache then reads again what the signal touches. Kinds with a change
stream (Docker's ``/events``, Kubernetes watches) implement ``ClusterFeed``;
kinds without one get ``PollingFeed``, which signals everything on a timer.
Whatever the feed, caches also re-read everything every ``resync_s``: a missed
event costs at most that long.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Literal

Resource = Literal["agents", "apps", "tasks", "jobs"]
RESOURCES: tuple[Resource, ...] = ("agents", "apps", "tasks", "jobs")


@dataclass(frozen=True)
class Signal:
    """Something of ``resources`` changed; in ``namespace``, or anywhere when None."""

    resources: frozenset[Resource]
    namespace: str | None = None

    @classmethod
    def everything(cls) -> Signal:
        return cls(frozenset(RESOURCES))


class ClusterFeed(ABC):
    @abstractmethod
    def signals(self) -> AsyncIterator[Signal]:
        """Signals until the feed breaks (it then raises, or ends); the cache reconnects."""


class PollingFeed(ClusterFeed):
    """For clusters that announce nothing: 'everything may have changed', every ``every_s``."""

    def __init__(self, every_s: float) -> None:
        self.every_s = every_s

    async def signals(self) -> AsyncIterator[Signal]:
        while True:
            await asyncio.sleep(self.every_s)
            yield Signal.everything()
