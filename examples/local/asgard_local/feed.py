"""The change feed of a local cluster: the supervisor itself says what changed.

Every process this kind starts or sees end, and every app or job it creates, changes or
removes, is announced (``Changes.tell``) with its namespace, so a cache re-reads only
what was touched, as soon as it was. Each reader of the feed has its own bounded queue;
a reader that falls that far behind is told "everything" once instead of every change.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Iterable

from asgard.backends.feeds import ClusterFeed, Resource, Signal

__all__ = ["APPS", "JOBS", "Changes", "LocalFeed"]

QUEUE_LIMIT = 256
APPS: frozenset[Resource] = frozenset({"apps", "tasks", "agents"})
"""What an instance starting or ending changes: the app, its tasks, the host's usage."""
JOBS: frozenset[Resource] = frozenset({"jobs", "agents"})


class Changes:
    def __init__(self) -> None:
        self._readers: set[asyncio.Queue[Signal]] = set()

    def tell(self, resources: Iterable[Resource], namespace: str | None) -> None:
        signal = Signal(frozenset(resources), namespace)
        for queue in self._readers:
            try:
                queue.put_nowait(signal)
            except asyncio.QueueFull:
                while not queue.empty():
                    queue.get_nowait()
                queue.put_nowait(Signal.everything())

    async def signals(self) -> AsyncGenerator[Signal, None]:
        queue: asyncio.Queue[Signal] = asyncio.Queue(QUEUE_LIMIT)
        self._readers.add(queue)
        try:
            yield Signal.everything()  # whatever happened before this reader came
            while True:
                yield await queue.get()
        finally:
            self._readers.discard(queue)


class LocalFeed(ClusterFeed):
    def __init__(self, changes: Changes) -> None:
        self.changes = changes

    def signals(self) -> AsyncGenerator[Signal, None]:
        return self.changes.signals()
