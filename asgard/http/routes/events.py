"""``GET /events``: what changes on the clusters, as server-sent events, for the account."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from asgard.events import Event, Overflow, Subscription
from asgard.http.routing import RouteTable
from asgard.http.schemas import EventsQuery
from asgard.http.state import principal, services
from asgard.http.streaming import pump
from asgard.models import Role

routes = RouteTable("events")

KEEPALIVE_S = 15.0


def frame(event: Event, number: int) -> bytes:
    return f"id: {number}\nevent: {event.kind}\ndata: {event.model_dump_json()}\n\n".encode()


async def frames(subscription: Subscription, query: EventsQuery) -> AsyncIterator[bytes]:
    """Events as SSE frames; a comment now and then so proxies keep the connection."""
    yield b": connected\n\n"
    number = 0
    while True:
        try:
            event = await subscription.next(KEEPALIVE_S)
        except Overflow as exc:
            yield f'event: overflow\ndata: {{"msg": "{exc}; reconnect"}}\n\n'.encode()
            return
        if event is None:
            yield b": keep-alive\n\n"
            continue
        if query.kind and event.kind not in query.kind:
            continue
        if query.cluster and event.cluster not in query.cluster:
            continue
        number += 1
        yield frame(event, number)


@routes.get(
    "/events",
    summary="Changes to the account's agents, apps, tasks and jobs, as they happen",
    query=EventsQuery,
    responses={200: "event-stream"},
)
async def events(request: web.Request, query: EventsQuery) -> web.StreamResponse:
    """Server-sent events, each with ``event: <kind>`` and a JSON ``data`` line holding
    kind, cluster, id, change (added, modified or deleted) and the object.
    A client too slow to keep up gets an ``overflow`` event and the stream ends;
    it should reconnect and read the lists again."""
    account = principal(request).require(Role.VIEWER)
    async with services(request).events.subscribe(account) as subscription:
        return await pump(request, frames(subscription, query), "text/event-stream")
