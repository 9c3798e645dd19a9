"""Changes as they happen, for every account that listens: a hub of bounded subscriptions.

The caches publish what changed in a scope (the apps of a namespace, the agents of
an owner); each subscriber gets only what its account may see. Publishing never
waits: every subscriber has a bounded queue, and one that falls too far behind
is told so and dropped, so a slow consumer neither slows the others nor makes
memory grow.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from asgard.models import Account
from asgard.models.base import utc_now

EventKind = Literal["agent", "app", "task", "job", "workflow"]
Change = Literal["added", "modified", "deleted"]

QUEUE_LIMIT = 1000


class Event(BaseModel):
    """One change, as ``GET /events`` sends it."""

    kind: EventKind
    cluster: str
    id: str
    change: Change
    object: dict[str, Any] | None = Field(
        description="The object after the change; None when deleted"
    )
    at: datetime = Field(default_factory=utc_now)


def changes(
    kind: EventKind, cluster: str, before: Mapping[str, Any], now: Mapping[str, Any]
) -> list[Event]:
    """What became of each item of one cluster between two looks; items are JSON-ready
    dicts by id. Nothing is sent for an item that did not change."""
    events = []
    for item_id, item in now.items():
        old = before.get(item_id)
        if old != item:
            change: Change = "added" if old is None else "modified"
            events.append(Event(kind=kind, cluster=cluster, id=item_id, change=change, object=item))
    for item_id in before.keys() - now.keys():
        events.append(Event(kind=kind, cluster=cluster, id=item_id, change="deleted", object=None))
    return events


@dataclass(frozen=True)
class Audience:
    """Who may see an event: the accounts of a namespace; for agents, also only those of the
    agent's owner (``owner=None``: accounts without owner, which see every agent)."""

    cluster: str
    namespace: str
    owner: str | None = None
    agents: bool = False

    def includes(self, account: Account) -> bool:
        if not account.may_use(self.cluster) or account.namespace != self.namespace:
            return False
        return not self.agents or account.owner == self.owner


class Overflow(Exception):
    """The subscriber fell too far behind; its stream ends and it should reconnect."""


@dataclass(eq=False)
class Subscription:
    account: Account
    queue: asyncio.Queue[Event | None] = field(default_factory=lambda: asyncio.Queue(QUEUE_LIMIT))
    overflowed: bool = False

    def offer(self, event: Event) -> None:
        if self.overflowed:
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.overflowed = True
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(None)

    async def next(self, timeout_s: float) -> Event | None:
        """The next event, or None after ``timeout_s`` without one; ``Overflow`` when cut off."""
        try:
            event = await asyncio.wait_for(self.queue.get(), timeout_s)
        except TimeoutError:
            return None
        if event is None:
            raise Overflow(f"more than {QUEUE_LIMIT} events waited for this stream")
        return event

    async def events(self) -> AsyncIterator[Event]:
        while True:
            event = await self.next(timeout_s=3600)
            if event is not None:
                yield event


class EventHub:
    def __init__(self) -> None:
        self._subscriptions: set[Subscription] = set()
        self._listeners: list[Callable[[Account, bool], Awaitable[None]]] = []

    def on_interest(self, listener: Callable[[Account, bool], Awaitable[None]]) -> None:
        """Be told when an account starts (True) or stops (False) listening: the caches
        load what it listens to, and keep it, while it does."""
        self._listeners.append(listener)

    @contextlib.asynccontextmanager
    async def subscribe(self, account: Account) -> AsyncIterator[Subscription]:
        """Listen; once entered, every later change the account may see is delivered."""
        subscription = Subscription(account)
        await asyncio.gather(*(listener(account, True) for listener in self._listeners))
        self._subscriptions.add(subscription)
        try:
            yield subscription
        finally:
            self._subscriptions.discard(subscription)
            await asyncio.gather(*(listener(account, False) for listener in self._listeners))

    def publish(self, audience: Audience, events: list[Event]) -> None:
        if not events:
            return
        for subscription in list(self._subscriptions):
            if audience.includes(subscription.account):
                for event in events:
                    subscription.offer(event)

    @property
    def subscribers(self) -> int:
        return len(self._subscriptions)
