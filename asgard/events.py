"""Changes as they happen, for every account that listens: a hub of bounded subscriptions.

The caches publish what changed in a scope (the apps of a namespace, the agents of
an owner); each subscriber gets only what its account may see. Publishing never
waits: every subscriber has a bounded queue, and one that falls too far behind
is told so and dropped, so a slow consumer neither slows the others nor makes
memory grow.

Every event is numbered as it is published, and the last ``BUFFER_LIMIT`` are kept:
a client that reconnects saying the last id it had (SSE's ``Last-Event-ID``) is sent
what it missed, in order, before anything new. When that cannot be told exactly (the
id is older than the buffer, from another process or an earlier run of this one, or
what the account sees was not followed meanwhile) the subscription is marked
``resync``: the client should read its lists again.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from asgard.models import Account
from asgard.models.base import utc_now

EventKind = Literal["agent", "app", "task", "job", "workflow", "cluster"]
"""``cluster``: a cluster stopped answering, or answers again (its object the ClusterStatus);
told to every account that may use it, whatever its namespace."""
Change = Literal["added", "modified", "deleted"]

QUEUE_LIMIT = 1000
BUFFER_LIMIT = 10_000
"""Events kept for clients that reconnect (``Last-Event-ID``)."""


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
    seq: int = Field(0, exclude=True)
    """Its number in this process, given as it is published (``EventHub.event_id``)."""


def changes(
    kind: EventKind,
    cluster: str,
    before: Mapping[str, Any],
    now: Mapping[str, Any],
    order: Iterable[str] | None = None,
) -> list[Event]:
    """What became of each item of one cluster between two looks; items are JSON-ready
    dicts by id. Nothing is sent for an item that did not change. In ``order`` (the order
    the items changed in, when it is known), else what is there now, then what went."""
    events = []
    ids = order if order is not None else [*now, *(i for i in before if i not in now)]
    for item_id in ids:
        old, item = before.get(item_id), now.get(item_id)
        if item is None and old is not None:
            events.append(
                Event(kind=kind, cluster=cluster, id=item_id, change="deleted", object=None)
            )
        elif item is not None and old != item:
            change: Change = "added" if old is None else "modified"
            events.append(Event(kind=kind, cluster=cluster, id=item_id, change=change, object=item))
    return events


@dataclass(frozen=True)
class Audience:
    """Who may see an event: the accounts of a namespace; for agents, also only those of the
    agent's owner (``owner=None``: accounts without owner, which see every agent)."""

    cluster: str
    namespace: str | None
    """None: every account that may use the cluster (its health is no namespace's)."""
    owner: str | None = None
    agents: bool = False

    def includes(self, account: Account) -> bool:
        if not account.may_use(self.cluster):
            return False
        if self.namespace is not None and account.namespace != self.namespace:
            return False
        return not self.agents or account.owner == self.owner


class Overflow(Exception):
    """The subscriber fell too far behind; its stream ends and it should reconnect."""


class Closing(Exception):
    """This process is stopping: the stream ends, and the client should reconnect (to
    another replica, behind a load balancer)."""


@dataclass(eq=False)
class Subscription:
    account: Account
    queue: asyncio.Queue[Event | None] = field(default_factory=lambda: asyncio.Queue(QUEUE_LIMIT))
    overflowed: bool = False
    resync: bool = False
    """The events missed since the id the client gave cannot be told: it should read its
    lists again. (What it would have missed was not queued.)"""
    closing: bool = False
    """Set when the process stops: the next read raises ``Closing``."""

    def close(self) -> None:
        """End the stream at its next read (waking it if it waits)."""
        self.closing = True
        with contextlib.suppress(asyncio.QueueFull):
            self.queue.put_nowait(None)

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
        if self.closing:
            raise Closing("this Asgard process is stopping")
        if event is None:
            raise Overflow(f"more than {QUEUE_LIMIT} events waited for this stream")
        return event

    async def events(self) -> AsyncIterator[Event]:
        while True:
            event = await self.next(timeout_s=3600)
            if event is not None:
                yield event


Interest = Callable[[Account, bool], Awaitable[bool]]
"""Told when an account starts (True) or stops (False) listening; on start, answers
whether what the account sees was followed already (so a replay of missed events is
complete) or had to be loaded now."""


class EventHub:
    def __init__(self, buffer_limit: int = BUFFER_LIMIT) -> None:
        self._subscriptions: set[Subscription] = set()
        self._listeners: list[Interest] = []
        self.epoch = secrets.token_hex(4)
        """Tells this process's ids from another's (or an earlier run's)."""
        self._seq = 0
        self._buffer: deque[tuple[Audience, Event]] = deque(maxlen=buffer_limit)
        self.closed = False
        """Set on shutdown: streams end, and any that starts now ends at once."""

    def on_interest(self, listener: Interest) -> None:
        """Be told when an account starts or stops listening: the caches load what it
        listens to, and keep it, while it does."""
        self._listeners.append(listener)

    def event_id(self, event: Event) -> str:
        """The SSE id of an event: ``<epoch>-<number>``."""
        return f"{self.epoch}-{event.seq}"

    def last_id(self) -> str:
        return f"{self.epoch}-{self._seq}"

    @contextlib.asynccontextmanager
    async def subscribe(
        self, account: Account, last_event_id: str | None = None, *, rendered: bool = False
    ) -> AsyncIterator[Subscription]:
        """Listen; once entered, every later change the account may see is delivered,
        after those missed since ``last_event_id`` (or ``resync`` is set).

        ``rendered``: the id is the newest a page was rendered with, a moment ago, rather
        than one a client saw before it lost its stream. What nobody followed meanwhile
        is then asked again (``resync``) only when events came after it: a page opened on
        a quiet fleet is not rendered twice for what could not have changed unseen."""
        subscription = Subscription(account)
        if self.closed:
            subscription.close()
        followed = await asyncio.gather(*(listener(account, True) for listener in self._listeners))
        self._subscriptions.add(subscription)
        if last_event_id is not None:  # no await from here: nothing new can come between
            quiet = rendered and last_event_id.strip() == self.last_id()
            missed = self._missed(account, last_event_id) if all(followed) or quiet else None
            if missed is None:
                subscription.resync = True
            for event in missed or []:
                subscription.offer(event)
        try:
            yield subscription
        finally:
            self._subscriptions.discard(subscription)
            await asyncio.gather(*(listener(account, False) for listener in self._listeners))

    def _missed(self, account: Account, last_event_id: str) -> list[Event] | None:
        """The account's events after the one named, or None when that cannot be told."""
        epoch, _, number = last_event_id.strip().partition("-")
        if epoch != self.epoch or not number.isdigit():
            return None
        after = int(number)
        oldest = self._buffer[0][1].seq if self._buffer else self._seq + 1
        if after > self._seq or after + 1 < oldest:
            return None
        missed = [
            event
            for audience, event in self._buffer
            if event.seq > after and audience.includes(account)
        ]
        return missed if len(missed) < QUEUE_LIMIT else None

    def recent(self, account: Account, limit: int) -> list[Event]:
        """The newest events the account may see, newest first, from the buffer."""
        found: list[Event] = []
        for audience, event in reversed(self._buffer):
            if len(found) >= limit:
                break
            if audience.includes(account):
                found.append(event)
        return found

    def publish(self, audience: Audience, events: list[Event]) -> None:
        if not events:
            return
        listening = [s for s in self._subscriptions if audience.includes(s.account)]
        for event in events:
            self._seq += 1
            event.seq = self._seq
            self._buffer.append((audience, event))
            for subscription in listening:
                subscription.offer(event)

    def forget_cluster(self, name: str) -> None:
        """Drop what the buffer holds of a cluster no longer served: a client that
        reconnects is not sent its old changes."""
        kept = [(a, e) for a, e in self._buffer if a.cluster != name]
        if len(kept) != len(self._buffer):
            self._buffer = deque(kept, maxlen=self._buffer.maxlen)

    def close_streams(self) -> None:
        """End every stream now (the process is stopping), so that no ``/events`` client
        holds the shutdown up to its grace period, and each reconnects elsewhere."""
        self.closed = True
        for subscription in list(self._subscriptions):
            subscription.close()

    @property
    def subscribers(self) -> int:
        return len(self._subscriptions)
