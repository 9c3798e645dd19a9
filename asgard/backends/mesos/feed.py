"""A Mesos cluster's change feed: Marathon's ``/v2/events`` for apps and tasks, where it
is offered, and polling for the rest.

Marathon announces every task status change, deployment and app change on its HTTP
event bus; an app id (``/dev/team/api``) names the namespace. Mesos masters and Chronos
have no stream Asgard follows, so agents and jobs are polled every ``poll_s``. A
Marathon without the event bus (404) means everything is polled.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Iterable

import aiohttp

from asgard.backends.common import Json
from asgard.backends.feeds import ClusterFeed, PollingFeed, Resource, Signal
from asgard.backends.mesos.marathon import Marathon

TASK_EVENTS = {"status_update_event", "instance_changed_event"}
POLLED = Signal(frozenset({"agents", "jobs"}))


def _app_ids(event: Json) -> list[str]:
    if event.get("appId"):
        return [str(event["appId"])]
    definition = event.get("appDefinition") or {}
    if definition.get("id"):
        return [str(definition["id"])]
    plan = event.get("plan") or {}
    found = []
    for side in ("original", "target"):
        found += [str(a.get("id")) for a in (plan.get(side) or {}).get("apps") or []]
    return [a for a in found if a and a != "None"]


def _namespace(app_ids: Iterable[str]) -> str | None:
    """The one namespace every id is in (``/dev/team/api`` is in ``dev``), else None."""
    namespaces = {a.strip("/").split("/", 1)[0] for a in app_ids}
    return namespaces.pop() if len(namespaces) == 1 else None


def signal_of(event_type: str, event: Json) -> Signal:
    resources: set[Resource] = {"apps", "tasks"}
    if event_type in TASK_EVENTS or event_type == "app_terminated_event":
        resources.add("agents")  # a task started or ended: an agent's used resources moved
    return Signal(frozenset(resources), _namespace(_app_ids(event)))


async def server_sent_events(stream: aiohttp.StreamReader) -> AsyncIterator[tuple[str, Json]]:
    """``(event type, data)`` from a text/event-stream, until it ends."""
    event_type, data = "message", ""
    async for raw in stream:
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        if not line:
            if data:
                with contextlib.suppress(ValueError):
                    parsed = json.loads(data)
                    if isinstance(parsed, dict):
                        yield str(parsed.get("eventType") or event_type), parsed
            event_type, data = "message", ""
        elif line.startswith("event:"):
            event_type = line[6:].strip()
        elif line.startswith("data:"):
            data += line[5:].strip()


class MesosFeed(ClusterFeed):
    def __init__(self, marathon: Marathon, poll_s: float) -> None:
        self.marathon = marathon
        self.poll_s = poll_s
        self.streaming = False
        """Whether Marathon's event stream is what signals apps and tasks just now."""

    async def signals(self) -> AsyncIterator[Signal]:
        async with self.marathon.events() as stream:
            yield Signal.everything()  # connected: read again whatever was missed
            if stream is None:
                async for signal in PollingFeed(self.poll_s).signals():
                    yield signal
                return
            self.streaming = True
            try:
                async for signal in self._merged(stream):
                    yield signal
            finally:
                self.streaming = False

    async def _merged(self, stream: aiohttp.StreamReader) -> AsyncIterator[Signal]:
        """Marathon's events as they come, and the polled signals on their timer."""
        queue: asyncio.Queue[Signal | BaseException | None] = asyncio.Queue()

        async def read() -> None:
            try:
                async for event_type, event in server_sent_events(stream):
                    if event_type != "event_stream_attached":
                        queue.put_nowait(signal_of(event_type, event))
                queue.put_nowait(None)
            except Exception as exc:
                queue.put_nowait(exc)

        async def poll() -> None:
            while True:
                await asyncio.sleep(self.poll_s)
                queue.put_nowait(POLLED)

        tasks = [asyncio.create_task(read()), asyncio.create_task(poll())]
        try:
            while (item := await queue.get()) is not None:
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
