"""``GET /events``: what changes on the clusters, as server-sent events, for the account."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator

from aiohttp import web

from asgard.events import Closing, Event, EventHub, Overflow, Subscription
from asgard.http.routing import RouteTable
from asgard.http.schemas import EventsQuery
from asgard.http.state import principal, services
from asgard.http.streaming import pump
from asgard.models import Role

routes = RouteTable("events")

KEEPALIVE_S = 15.0
"""A comment at least this often, events or not: proxies cut streams that stay quiet."""
RECONNECT_MS = 1000
"""The ``retry`` hint sent when the process stops: reconnect in a second (the load
balancer sends the new connection to a replica that is not stopping)."""


def frame(hub: EventHub, event: Event) -> bytes:
    data = event.model_dump_json()
    return f"id: {hub.event_id(event)}\nevent: {event.kind}\ndata: {data}\n\n".encode()


NOTICES = ("resync", "overflow", "closing", "revoked")
"""The names of Asgard's own frames, beside the kinds of change."""


def notice(name: str, msg: str, event_id: str | None = None) -> bytes:
    """A frame of Asgard's own (``resync``, ``overflow``), not a change."""
    head = f"id: {event_id}\n" if event_id else ""
    return f"{head}event: {name}\ndata: {json.dumps({'msg': msg})}\n\n".encode()


def revoked(reason: str) -> bytes:
    """The last frame of a stream whose access was taken away (a key revoked, a member
    removed, a logout): reconnecting with the same credentials would be refused."""
    return notice("revoked", f"this stream has ended: {reason}")


def wanted(event: Event, query: EventsQuery) -> bool:
    return (not query.kind or event.kind in query.kind) and (
        not query.cluster or event.cluster in query.cluster
    )


async def frames(
    hub: EventHub, subscription: Subscription, query: EventsQuery, keepalive_s: float
) -> AsyncIterator[bytes]:
    """Events as SSE frames, and a comment whenever ``keepalive_s`` passed without a write
    (events filtered out do not count: nothing reached the client)."""
    yield b": connected\n\n"
    if subscription.resync:
        yield notice(
            "resync",
            "the events since the Last-Event-ID given are no longer known; read the lists again",
            hub.last_id(),
        )
    last_write = time.monotonic()
    while True:
        wait_s = max(0.0, keepalive_s - (time.monotonic() - last_write))
        try:
            event = await subscription.next(wait_s)
        except Overflow as exc:
            yield notice("overflow", f"{exc}; reconnect")
            return
        except Closing as exc:
            yield f"retry: {RECONNECT_MS}\n".encode() + notice("closing", f"{exc}; reconnect")
            return
        if event is not None and wanted(event, query):
            yield frame(hub, event)
        elif time.monotonic() - last_write < keepalive_s:
            continue
        else:
            yield b": keep-alive\n\n"
        last_write = time.monotonic()


@routes.get(
    "/events",
    summary="Changes to the account's agents, apps, tasks, jobs and workflows, and its "
    "clusters going down and coming back, as they happen",
    query=EventsQuery,
    responses={200: "event-stream"},
)
async def events(request: web.Request, query: EventsQuery) -> web.StreamResponse:
    """Server-sent events, each with an ``id``, ``event: <kind>`` and a JSON ``data`` line
    holding kind, cluster, id, change (added, modified or deleted) and the object. A
    ``cluster`` event (its id the cluster's name, its object the cluster's status, as
    ``GET /clusters`` gives it) comes when a cluster stops answering and when it answers
    again.

    A client that reconnects with the ``Last-Event-ID`` header (or ``?last_event_id=``)
    is first sent the events it missed, from a bounded buffer; when they are no longer
    known (too old, or the id came from another Asgard process) it gets a ``resync``
    event and should read the lists again. A page gives ``?after=`` the newest id it was
    rendered with: what came after is sent first, and a ``resync`` only when something
    came after it that cannot be told. ``kind`` and ``cluster`` filter
    (comma-separated). A comment line comes at least every 15 s. A client too slow to
    keep up gets an ``overflow`` event and the stream ends; it should reconnect. When the
    process stops, the stream ends with a ``retry`` hint and a ``closing`` event. When the
    access it was opened with is taken away (its key revoked, its user deleted or removed
    from the account, its dashboard session ended), it ends with a ``revoked`` event
    within the authentication cache time (``ASGARD_AUTH_CACHE_S``)."""
    account = principal(request).require(Role.VIEWER)
    hub = services(request).events
    last_id = request.headers.get("Last-Event-ID") or query.last_event_id
    rendered = last_id is None and query.after is not None
    keepalive_s = services(request).settings.events_keepalive_s
    async with hub.subscribe(account, last_id or query.after, rendered=rendered) as subscription:
        return await pump(
            request, frames(hub, subscription, query, keepalive_s), "text/event-stream", revoked
        )
