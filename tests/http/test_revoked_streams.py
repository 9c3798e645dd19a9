"""Access taken away ends what it opened: an ``/events`` stream and a followed log of an
app on a real Docker Engine end (SSE: with a ``revoked`` event) when their key is revoked,
their user removed from the account or deleted, or their dashboard session logged out;
on SQLite and PostgreSQL, in the process that made the change and in another one.

The processes here keep what authentication read for 60 s, so that only the notice of the
change explains a stream ending within seconds; the test of a change no notice tells
(another process on SQLite) keeps it for 1 s, the period of the streams' own check.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest

from asgard.backends.orchestrator import Orchestrator
from asgard.db.engine import Database
from asgard.db.stores import ApiKeyStore
from asgard.events import EventHub
from asgard.models import Account, Role
from tests.conftest import StartAsgard, docker_cluster
from tests.support.asgard import AsgardUnderTest, Caller
from tests.support.dockerd import SERVE_FOREVER, TEST_IMAGE, DockerDaemon
from tests.support.sse import Frame, frames
from tests.ui.ui_client import browser

APP = "/clusters/local/apps/talk"
TALK = ["sh", "-c", "trap 'exit 0' TERM; i=0; while true; do i=$((i+1)); echo $i; sleep 0.1; done"]
NOTICED_S = 5.0
"""A generous bound for a change told by a notice (it takes milliseconds)."""
PERIOD_S = 1.0
"""The auth cache time of the test where no notice tells the change."""
START_S = 60.0


@dataclass
class Scene:
    asgard: AsgardUnderTest
    engine: DockerDaemon
    account: Account
    admin: Caller
    dev: Caller
    """An operator of ``account``, whose access each test takes away."""


async def start(
    start_asgard: StartAsgard, engine: DockerDaemon, db_url: str, auth_cache_s: float
) -> AsgardUnderTest:
    hub = EventHub()
    fleet = Orchestrator([await docker_cluster("local", engine)])
    fleet.enable_caches(hub)
    return await start_asgard(fleet, hub=hub, db_url=db_url, auth_cache_s=auth_cache_s)


@pytest.fixture
async def scene(start_asgard: StartAsgard, engine: DockerDaemon, db_url: str) -> Scene:
    asgard = await start(start_asgard, engine, db_url, 60)
    account = await asgard.account("dev")
    admin = await asgard.caller("root@example.com", admin=True)
    dev = await asgard.caller("dev@example.com", roles={account.id: Role.OPERATOR})
    spec = {"cluster": "local", "id": "talk", "image": TEST_IMAGE, "args": TALK, "instances": 1}
    await dev.json("POST", "/apps", status=201, json=spec)
    return Scene(asgard, engine, account, admin, dev)


@dataclass
class Opened:
    """An ``/events`` stream and a followed log (jsonl), both flowing."""

    events: aiohttp.ClientResponse
    logs: aiohttp.ClientResponse
    frames: AsyncIterator[Frame]


async def open_streams(client: Any, headers: dict[str, str]) -> Opened:
    events = await client.get("/events", headers=headers)
    assert events.status == 200, await events.text()
    read = frames(events)
    assert (await anext(read)).comment == "connected"
    logs: aiohttp.ClientResponse | None = None
    deadline = time.monotonic() + START_S
    while logs is None:  # until the app's task runs and has said something
        response = await client.get(f"{APP}/logs?follow=true&format=jsonl&tail=1", headers=headers)
        if response.status == 200:
            async with asyncio.timeout(5):
                first = await response.content.readline()
            if first:
                logs = response
                continue
        response.close()
        assert time.monotonic() < deadline, f"the app never talked: {response.status}"
        await asyncio.sleep(0.3)
    return Opened(events, logs, read)


async def rest_of_events(opened: Opened, limit_s: float) -> list[Frame]:
    """Every frame until the stream ends; it must end within ``limit_s``."""
    found: list[Frame] = []
    async with asyncio.timeout(limit_s):
        async for frame in opened.frames:
            found.append(frame)
    return found


async def rest_of_log(opened: Opened, limit_s: float) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    async with asyncio.timeout(limit_s):
        while line := await opened.logs.content.readline():
            found.append(json.loads(line))
    return found


def start_late_app(engine: DockerDaemon) -> None:
    """A container of the account's namespace started behind Asgard's back: an event."""
    engine.cli(
        "run", "-d", "--label", "asgard.namespace=dev", "--label", "asgard.app=late",
        TEST_IMAGE, *SERVE_FOREVER,
    )  # fmt: skip


def written_at(line: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(line["ts"].replace("Z", "+00:00"))


async def both_end(
    opened: Opened,
    engine: DockerDaemon,
    taken_at: datetime,
    limit_s: float,
    *,
    told: bool = True,
) -> None:
    """Both streams end within ``limit_s`` of the change; when the change was ``told`` (a
    notice), they carry nothing after it: no event of an app started after it, no log
    line written after it. (Untold, they may until the next check.)"""
    if told:  # the docker CLI in a thread: the Asgards under test share this loop
        await asyncio.to_thread(start_late_app, engine)
    events, lines = await asyncio.gather(
        rest_of_events(opened, limit_s), rest_of_log(opened, limit_s)
    )
    assert events, "the stream says why it ends"
    assert events[-1].event == "revoked", events[-1]
    assert "ended" in events[-1].data["msg"]
    if told:
        assert not [f for f in events if f.data and f.data.get("id") == "late"]
        late = [line for line in lines if written_at(line) > taken_at]
        assert not late, f"lines written after the change were sent: {late[:3]}"


TakeAway = Callable[[Scene], Awaitable[None]]


async def revoke_key(scene: Scene) -> None:
    key = await scene.asgard.services.auth.create_key(scene.dev.user.id, "other")
    other = Caller(scene.dev.client, scene.dev.user, key.key)
    tokens = (await other.json("GET", "/users/me/tokens"))["tokens"]
    first = next(t["id"] for t in tokens if t["name"] == "test")
    await other.json("DELETE", f"/users/me/tokens/{first}", status=204)


async def remove_member(scene: Scene) -> None:
    path = f"/accounts/{scene.account.id}/users/{scene.dev.user.id}"
    await scene.admin.json("DELETE", path, status=204)


async def delete_user(scene: Scene) -> None:
    await scene.admin.json("DELETE", f"/users/{scene.dev.user.id}", status=204)


@pytest.mark.parametrize("take_away", [revoke_key, remove_member, delete_user])
async def test_taking_access_away_ends_the_streams_it_opened(
    scene: Scene, take_away: TakeAway
) -> None:
    opened = await open_streams(scene.dev.client, scene.dev.headers)
    await take_away(scene)
    taken_at = datetime.now(UTC)
    await both_end(opened, scene.engine, taken_at, NOTICED_S)
    assert (await scene.dev.get("/events")).status in (401, 403)


async def test_a_lower_role_that_still_reads_keeps_the_streams(scene: Scene) -> None:
    """operator to viewer: both may read, so the streams go on (and carry new events)."""
    opened = await open_streams(scene.dev.client, scene.dev.headers)
    path = f"/accounts/{scene.account.id}/users/{scene.dev.user.id}"
    await scene.admin.json("PUT", path, json={"role": "viewer"})
    await asyncio.to_thread(start_late_app, scene.engine)
    async with asyncio.timeout(30):
        async for frame in opened.frames:
            assert frame.event != "revoked", frame
            if frame.data and frame.data.get("id") == "late":
                break
    assert await opened.logs.content.readline(), "the log goes on"


async def test_logging_out_ends_the_sessions_streams(scene: Scene) -> None:
    session = await browser(scene.dev)
    csrf = await session.csrf()
    opened = await open_streams(scene.dev.client, session.cookie)
    response = await session.request("POST", "/ui/logout", data={"csrf_token": csrf})
    assert response.status == 303
    await both_end(opened, scene.engine, datetime.now(UTC), NOTICED_S)


async def test_a_key_revoked_through_another_process_ends_the_streams_here(
    start_asgard: StartAsgard, engine: DockerDaemon, db_url: str
) -> None:
    """On PostgreSQL the other process is told (NOTIFY) and this one's cache time (60 s)
    is never waited for; on SQLite nothing is told, and the streams' own check every
    auth cache time (1 s here) finds the key gone."""
    postgres = db_url.startswith("postgresql")
    here = await start(start_asgard, engine, db_url, 60 if postgres else PERIOD_S)
    account = await here.account("dev")
    dev = await here.caller("dev@example.com", roles={account.id: Role.OPERATOR})
    spec = {"cluster": "local", "id": "talk", "image": TEST_IMAGE, "args": TALK, "instances": 1}
    await dev.json("POST", "/apps", status=201, json=spec)
    opened = await open_streams(dev.client, dev.headers)
    if postgres:  # a second Asgard on the same database revokes it
        there = await start(start_asgard, engine, db_url, 60)
        key = await there.services.auth.create_key(dev.user.id, "other")
        other = Caller(there.client, dev.user, key.key)
        tokens = (await other.json("GET", "/users/me/tokens"))["tokens"]
        first = next(t["id"] for t in tokens if t["name"] == "test")
        await other.json("DELETE", f"/users/me/tokens/{first}", status=204)
    else:  # another program on the file (the ``asgard`` command, another process)
        elsewhere = Database(db_url)
        try:
            async with elsewhere.writing() as session:
                rows = await ApiKeyStore(session).of_user(dev.user.id)
                await ApiKeyStore(session).delete(dev.user.id, rows[0].id)
        finally:
            await elsewhere.close()
    limit_s = NOTICED_S if postgres else PERIOD_S + NOTICED_S
    await both_end(opened, engine, datetime.now(UTC), limit_s, told=postgres)


async def followed(client: Any, headers: dict[str, str], path: str) -> aiohttp.ClientResponse:
    """A followed log, once it has said something (its container may not have started)."""
    deadline = time.monotonic() + START_S
    while True:
        response: aiohttp.ClientResponse = await client.get(f"{path}?follow=true", headers=headers)
        if response.status == 200:
            async with asyncio.timeout(5):
                if await response.content.readline():
                    return response
        response.close()
        assert time.monotonic() < deadline, f"{path} never talked: {response.status}"
        await asyncio.sleep(0.3)


async def test_revoking_the_key_ends_followed_job_and_stage_logs(scene: Scene) -> None:
    """Every followed log is held as the app's is: a job's and a workflow stage's end too."""
    job = {"cluster": "local", "name": "talker", "image": TEST_IMAGE, "command": TALK}
    job_id = (await scene.dev.json("POST", "/jobs", status=201, json=job))["job"]["id"]
    flow = {"cluster": "local", "name": "flow", "stages": [{**job, "name": "talk"}]}
    flow_id = (await scene.dev.json("POST", "/workflows", status=201, json=flow))["workflow"]["id"]
    logs = [
        await followed(scene.dev.client, scene.dev.headers, f"/clusters/local/jobs/{job_id}/logs"),
        await followed(
            scene.dev.client,
            scene.dev.headers,
            f"/clusters/local/workflows/{flow_id}/stages/talk/logs",
        ),
    ]
    await revoke_key(scene)
    for log in logs:
        async with asyncio.timeout(NOTICED_S):
            while await log.content.readline():
                pass  # what was in flight; then the body ends
