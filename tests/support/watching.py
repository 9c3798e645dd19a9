"""What a user does to see a fault through: poll until something holds, and keep
listening on ``GET /events`` while it happens."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from asgard.models import Role
from tests.support.asgard import AsgardUnderTest, Caller
from tests.support.sse import sse


async def eventually(check: Callable[[], Awaitable[object]], what: str, limit_s: float) -> Any:
    """Poll ``check`` until it answers something true; fail saying what never happened."""
    deadline = time.monotonic() + limit_s
    last: object = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(0.1)
    raise AssertionError(f"within {limit_s:g} s, never: {what} (last seen: {last!r})")


@dataclass
class Listener:
    """A user's ``GET /events``, read in the background for as long as the test runs."""

    response: aiohttp.ClientResponse
    events: list[dict[str, Any]] = field(default_factory=list)
    task: asyncio.Task[None] | None = None

    def start(self) -> None:
        assert self.response.status == 200, self.response.status
        self.task = asyncio.create_task(self._read())

    def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
        self.response.close()

    async def _read(self) -> None:
        async for event in sse(self.response):
            self.events.append(event)

    def seen(self, since: int = 0) -> list[tuple[str, str, str]]:
        """(kind, id, change) of every event heard, from the ``since``-th on."""
        return [(e["kind"], e["id"], e["change"]) for e in self.events[since:]]

    async def hears(
        self, kind: str, item: str, change: str, *, since: int = 0, limit_s: float = 15
    ) -> dict[str, Any]:
        """The last such event from the ``since``-th on, once there is one."""

        async def heard() -> dict[str, Any] | None:
            assert self.task is not None, "not started"
            assert not self.task.done(), "the /events stream ended"
            found = [
                e
                for e in self.events[since:]
                if (e["kind"], e["id"], e["change"])
                == (
                    kind,
                    item,
                    change,
                )
            ]
            return found[-1] if found else None

        event: dict[str, Any] = await eventually(
            heard, f"/events says {kind} {item} {change}", limit_s
        )
        return event


@contextlib.asynccontextmanager
async def an_operator_listening(
    asgard: AsgardUnderTest, cluster: str
) -> AsyncIterator[tuple[Caller, Listener]]:
    """An operator of the account ``dev`` listening on ``/events``, who has made the app
    ``web`` on ``cluster`` through Asgard and heard it added."""
    account = await asgard.account("dev")
    dev = await asgard.caller("dev@example.com", roles={account.id: Role.OPERATOR})
    listener = Listener(await dev.get("/events"))
    try:
        listener.start()
        app = {"cluster": cluster, "id": "web", "image": "web:1", "instances": 1}
        await dev.json("POST", "/apps", status=201, json=app)
        await listener.hears("app", "web", "added")
        yield dev, listener
    finally:
        listener.close()
