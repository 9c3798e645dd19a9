"""``/events`` as an async iterator: server-sent events parsed into ``Event`` models, and a
stream that reconnects with ``Last-Event-ID`` so nothing the server still holds is missed."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass, field

import aiohttp

from asgard.client.errors import ConnectionFailed
from asgard.client.models import Notice
from asgard.client.transport import Transport, lines
from asgard.events import Event

__all__ = ["EventStream", "EventsClient", "Frame", "frames"]

CHANGE_KINDS = frozenset({"agent", "app", "task", "job", "workflow"})


@dataclass
class Frame:
    """One server-sent event as it came: its id, its name and its data lines joined."""

    id: str | None = None
    event: str = "message"
    data: list[str] = field(default_factory=list)
    retry_ms: int | None = None
    """The server's hint of how long to wait before reconnecting."""


async def frames(lines: AsyncIterable[bytes]) -> AsyncIterator[Frame]:
    """The SSE framing (fields up to a blank line; comment lines ignored), for any source of
    lines; a frame without data is no event, as the format says."""
    frame = Frame()
    async for raw in lines:
        line = raw.decode(errors="replace")
        if not line:
            if frame.data:
                yield frame
            frame = Frame()
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "id":
            frame.id = value
        elif name == "event":
            frame.event = value
        elif name == "data":
            frame.data.append(value)
        elif name == "retry" and value.isdigit():
            frame.retry_ms = int(value)


def parse(frame: Frame) -> Event | Notice:
    data = json.loads("\n".join(frame.data))
    if frame.event in CHANGE_KINDS:
        return Event.model_validate(data)
    msg = data.get("msg", "") if isinstance(data, dict) else ""
    return Notice(
        name=frame.event, msg=msg, id=frame.id, data=data if isinstance(data, dict) else {}
    )


class EventStream:
    """The account's events, for as long as it is iterated. ``last_event_id`` is the id of
    the last frame read: give it to a later stream to go on where this one stopped. With
    ``reconnect``, a stream that ends or drops (an ``overflow``, a ``closing`` server) is
    taken up again after ``retry_s`` (or the server's ``retry`` hint), resuming from that
    id; the server answers ``resync`` (a Notice) when it cannot tell what was missed."""

    def __init__(
        self,
        transport: Transport,
        *,
        kind: list[str] | None = None,
        cluster: list[str] | None = None,
        last_event_id: str | None = None,
        reconnect: bool = True,
        retry_s: float = 1.0,
    ) -> None:
        self._t = transport
        self._params = {"kind": kind, "cluster": cluster}
        self.last_event_id = last_event_id
        self.reconnect = reconnect
        self.retry_s = retry_s

    def __aiter__(self) -> AsyncIterator[Event | Notice]:
        return self._run()

    async def _run(self) -> AsyncIterator[Event | Notice]:
        while True:
            try:
                async for item in self._once():
                    yield item
            except (TimeoutError, ConnectionFailed, aiohttp.ClientPayloadError):
                if not self.reconnect:
                    raise
            if not self.reconnect:
                return
            await asyncio.sleep(self.retry_s)

    async def _once(self) -> AsyncIterator[Event | Notice]:
        headers = {"Accept": "text/event-stream"}
        if self.last_event_id:
            headers["Last-Event-ID"] = self.last_event_id
        async with self._t.open("GET", "/events", params=self._params, headers=headers) as r:
            async for frame in frames(lines(r.content)):
                if frame.id:
                    self.last_event_id = frame.id
                if frame.retry_ms is not None:
                    self.retry_s = frame.retry_ms / 1000
                yield parse(frame)


class EventsClient:
    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def stream(
        self,
        *,
        kind: list[str] | None = None,
        cluster: list[str] | None = None,
        last_event_id: str | None = None,
        reconnect: bool = True,
        retry_s: float = 1.0,
    ) -> EventStream:
        return EventStream(
            self._t,
            kind=kind,
            cluster=cluster,
            last_event_id=last_event_id,
            reconnect=reconnect,
            retry_s=retry_s,
        )
