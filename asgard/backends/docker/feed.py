"""The Docker Engine's ``/events`` stream as a change feed.

Container, service and node events name what changed; container events carry
the container's labels, so an event of an Asgard app or job names its
namespace. Any container starting or stopping changes an agent's used
resources, so agents are signalled on every container event.

The feed also keeps the client's ``EngineMode`` current: it is learnt again each
time the feed connects and on every node event (``swarm init`` sends one), and a
change of mode signals everything, since apps, tasks and agents are then other
objects altogether.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from asgard.backends.common import Json
from asgard.backends.docker import labels as L
from asgard.backends.docker.client import DockerClient
from asgard.backends.feeds import ClusterFeed, Resource, Signal

INTERESTING = {"type": ["container", "service", "node"]}
IGNORED_ACTIONS = (
    "exec_",
    "health_status",
    "top",
    "attach",
    "resize",
    "archive-path",
    "extract-to-dir",
)


def signal_of(event: Json) -> Signal | None:
    kind, action = event.get("Type"), str(event.get("Action", ""))
    if action.startswith(IGNORED_ACTIONS):
        return None
    attributes = (event.get("Actor") or {}).get("Attributes") or {}
    namespace = attributes.get(L.NAMESPACE)
    if kind == "node":
        return Signal(frozenset({"agents"}))
    if kind == "service":
        return Signal(frozenset({"apps", "tasks", "jobs", "agents"}), namespace)
    if kind == "container":
        resources: set[Resource] = {"agents"}
        if L.APP in attributes or "com.docker.swarm.service.id" in attributes:
            resources |= {"apps", "tasks"}
        if L.JOB in attributes:
            resources.add("jobs")
        return Signal(frozenset(resources), namespace)
    return None


class DockerFeed(ClusterFeed):
    def __init__(self, client: DockerClient) -> None:
        self.client = client

    async def signals(self) -> AsyncIterator[Signal]:
        params = {"filters": json.dumps(INTERESTING)}
        async with self.client.stream(
            "GET", self.client.path("events"), what="events", params=params
        ) as response:
            await self.client.learn_mode()
            yield Signal.everything()  # connected: whatever happened before is to be read again
            async for line in response.content:
                if not line.strip():
                    continue
                event = json.loads(line)
                if event.get("Type") == "node" and await self._mode_changed():
                    yield Signal.everything()
                    continue
                signal = signal_of(event)
                if signal is not None:
                    yield signal

    async def _mode_changed(self) -> bool:
        before = await self.client.mode()
        return await self.client.learn_mode() != before
