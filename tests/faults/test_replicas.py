"""Three ``asgard serve`` processes on one PostgreSQL, as three replicas behind a load
balancer: what one is told, the others know within a second (``LISTEN``/``NOTIFY``,
not their polls), the background work survives its holder's death, and a cluster's
janitor runs in one of them, not in each.

The authentication cache is kept for a long time here (60 s) and the workflow feed's
poll is long too, so that only the notices can explain the others' knowing at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest

from asgard.db.notices import asyncpg_dsn
from testbed.asgard_process import RunningAsgard, running_asgard, set_up_database
from tests.support.dockerd import TEST_IMAGE, DockerDaemon
from tests.support.postgres import Postgres
from tests.support.remote import Api
from tests.support.resources import shared
from tests.support.sse import Frame, frames
from tests.support.watching import eventually

SETTLE_S = 90.0
LEASE_S = 10.0
"""The workflow runner's lease, at a tick of 0.5 s (``LeasedLoop.ticking``: at least 10 s)."""
NOTICE_S = 1.0
"""The documented time for another process to act on a change: well under its polls."""
SETTINGS = {
    "ASGARD_SECRET_KEY": "replicas-share-one-secret-key-for-their-tokens",
    "ASGARD_AUTH_CACHE_S": "60",
    "ASGARD_WORKFLOW_TICK_S": "0.5",
}


@dataclass(frozen=True)
class SetUp:
    """A database with the user, account and operator's key made through the CLI once;
    each test runs on a copy of it."""

    server: Postgres
    template: str
    key: str

    def new_database(self) -> str:
        return self.server.new_database(template=self.template)


@pytest.fixture(scope="module")
@shared("module")
def set_up(postgres_server: Postgres) -> SetUp:
    template = postgres_server.new_database()
    return SetUp(postgres_server, template, set_up_database(template, role="operator"))


@contextlib.asynccontextmanager
async def replicas(
    tmp_path: Path, set_up: SetUp, clusters: list[dict[str, Any]], count: int = 3
) -> AsyncIterator[tuple[str, list[RunningAsgard]]]:
    """Three processes on a copy of the set-up database, started at once (each waits for
    its own ``/health``; one that fails to start cancels the others); its URL and them."""
    db_url = set_up.new_database()
    async with contextlib.AsyncExitStack() as stack:
        async with asyncio.TaskGroup() as starting:
            started = [
                starting.create_task(
                    stack.enter_async_context(
                        running_asgard(
                            tmp_path / f"r{i}",
                            clusters,
                            key=set_up.key,
                            settings=SETTINGS,
                            db_url=db_url,
                        )
                    )
                )
                for i in range(count)
            ]
        yield db_url, [task.result() for task in started]


async def test_a_key_revoked_on_one_process_is_refused_by_the_others_at_once(
    tmp_path: Path, set_up: SetUp
) -> None:
    async with (
        replicas(tmp_path, set_up, []) as (_, processes),
        aiohttp.ClientSession() as session,
    ):
        apis = [Api.of(session, p) for p in processes]
        made = await apis[0].ok("POST", "/users/me/tokens", 201, json={"name": "doomed"})
        doomed = [api.using(made["token"]["key"]) for api in apis]
        for api in doomed:  # each process has the key in its cache now, for 60 s
            await api.ok("GET", "/users/me")

        await apis[1].ok("DELETE", f"/users/me/tokens/{made['token']['id']}", 204)
        revoked_at = time.monotonic()

        async def refused_everywhere() -> bool:
            answers = [await api.call("GET", "/users/me") for api in doomed]
            return all(a.status == 401 for a in answers)

        await eventually(refused_everywhere, "every process refuses the revoked key", 10)
        assert time.monotonic() - revoked_at < NOTICE_S + 1, "told, not timed out of a cache"
        for api in apis:
            await api.ok("GET", "/users/me")  # the other key still works everywhere


async def test_an_events_listener_on_each_process_hears_every_workflow_change(
    tmp_path: Path, set_up: SetUp, engine: DockerDaemon
) -> None:
    clusters = [{"name": "local", "kind": "docker", "url": engine.url}]
    async with (
        replicas(tmp_path, set_up, clusters) as (_, processes),
        aiohttp.ClientSession() as session,
    ):
        apis = [Api.of(session, p) for p in processes]
        streams = [
            await session.get(f"{p.url}/events?kind=workflow", headers=p.headers) for p in processes
        ]
        heard: list[list[dict[str, Any]]] = [[] for _ in processes]

        async def listen(index: int, response: aiohttp.ClientResponse) -> None:
            async for frame in frames(response):
                if frame.event == "workflow":
                    heard[index].append(frame.data)

        listeners = [asyncio.create_task(listen(i, s)) for i, s in enumerate(streams)]
        try:
            spec = {
                "cluster": "local",
                "name": "pair",
                "stages": [
                    {"name": "one", "image": TEST_IMAGE, "command": ["sh", "-c", "echo 1"]},
                    {"name": "two", "image": TEST_IMAGE, "command": ["sh", "-c", "echo 2"]},
                ],
            }
            created = (await apis[2].ok("POST", "/workflows", 201, json=spec))["workflow"]

            async def succeeded() -> bool:
                found = await apis[0].ok("GET", f"/clusters/local/workflows/{created['id']}")
                return bool(found["workflow"]["state"] == "succeeded")

            await eventually(succeeded, "the workflow succeeds", SETTLE_S)

            async def everyone_heard_the_end() -> bool:
                return all(
                    any(e["object"]["state"] == "succeeded" for e in events) for events in heard
                )

            await eventually(everyone_heard_the_end, "each listener hears it succeed", 5)
            for events in heard:
                assert events[0]["change"] == "added"
                assert {e["id"] for e in events} == {created["id"]}
                states = [e["object"]["state"] for e in events]
                assert "running" in states, states
        finally:
            for task in listeners:
                task.cancel()
            for stream in streams:
                stream.close()


async def lease_holder(db_url: str, lease: str) -> str | None:
    connection = await asyncpg.connect(asyncpg_dsn(db_url))
    try:
        holder = await connection.fetchval("SELECT holder FROM leases WHERE name = $1", lease)
        return str(holder) if holder is not None else None
    finally:
        await connection.close()


async def test_the_lease_holder_killed_mid_workflow_another_process_finishes_it(
    tmp_path: Path, set_up: SetUp, engine: DockerDaemon
) -> None:
    clusters = [{"name": "local", "kind": "docker", "url": engine.url}]
    async with (
        replicas(tmp_path, set_up, clusters) as (db_url, processes),
        aiohttp.ClientSession() as session,
    ):
        apis = [Api.of(session, p) for p in processes]
        spec = {
            "cluster": "local",
            "name": "long",
            "stages": [
                {"name": "wait", "image": TEST_IMAGE, "command": ["sh", "-c", "sleep 4"]},
                {"name": "after", "image": TEST_IMAGE, "command": ["sh", "-c", "echo done"]},
            ],
        }
        created = (await apis[0].ok("POST", "/workflows", 201, json=spec))["workflow"]
        path = f"/clusters/local/workflows/{created['id']}"

        async def first_stage_runs() -> bool:
            flow = (await apis[0].ok("GET", path))["workflow"]
            return bool(flow["stages"][0]["state"] == "running")

        await eventually(first_stage_runs, "the first stage runs", SETTLE_S)
        holder = await lease_holder(db_url, "workflows")
        assert holder is not None
        [victim] = [p for p in processes if f":{p.pid}:" in holder]
        os.kill(victim.pid, signal.SIGKILL)
        killed_at = time.monotonic()
        survivor = apis[processes.index(victim) - 1]

        async def taken_over() -> bool:
            now = await lease_holder(db_url, "workflows")
            return now is not None and f":{victim.pid}:" not in now

        await eventually(taken_over, "another process takes the lease", 2 * LEASE_S + 5)
        assert time.monotonic() - killed_at < 2 * LEASE_S, "within twice the lease time"

        async def succeeded() -> dict[str, Any] | None:
            flow = (await survivor.ok("GET", path))["workflow"]
            return dict(flow) if flow["state"] in ("succeeded", "failed") else None

        flow = await eventually(succeeded, "another process finishes the workflow", SETTLE_S)
        assert [s["state"] for s in flow["stages"]] == ["succeeded", "succeeded"], flow


JANITOR = "docker-job-retention:local"
"""The lease of the Docker jobs janitor of the cluster ``local``."""


def logged(process: RunningAsgard, event: str, **fields: str) -> bool:
    """Whether the process logged ``event`` (a JSON line) with ``fields``."""
    for line in process.log.read_text(errors="replace").splitlines():
        with contextlib.suppress(ValueError):
            found = json.loads(line)
            if found.get("event") == event and all(found.get(k) == v for k, v in fields.items()):
                return True
    return False


async def test_a_clusters_janitor_runs_in_one_replica_not_in_each(
    tmp_path: Path, set_up: SetUp, engine: DockerDaemon
) -> None:
    """Finished jobs are kept 2 s: the janitor that removes them runs by lease, in the one
    replica that holds it, which removes the job; the other never takes the lease, so it
    never runs the janitor."""
    clusters = [{"name": "local", "kind": "docker", "url": engine.url, "job_retention_s": 2}]
    async with (
        replicas(tmp_path, set_up, clusters, count=2) as (db_url, processes),
        aiohttp.ClientSession() as session,
    ):
        spec = {
            "cluster": "local",
            "name": "brief",
            "image": TEST_IMAGE,
            "command": ["sh", "-c", "true"],
        }
        job = (await Api.of(session, processes[1]).ok("POST", "/jobs", 201, json=spec))["job"]

        async def removed() -> bool:
            found = engine.cli("ps", "-aq", "--filter", f"label=asgard.job={job['id']}")
            return not found.split()

        await eventually(removed, "the finished job is removed after its retention", SETTLE_S)
        holder = await lease_holder(db_url, JANITOR)
        assert holder is not None
        [janitor] = [p for p in processes if f":{p.pid}:" in holder]
        took = [p for p in processes if logged(p, "lease taken", lease=JANITOR)]
        assert took == [janitor], "one replica took the janitor's lease; the other never did"
        removing = [
            p
            for p in processes
            if logged(p, "removed a finished job past its retention", job=job["id"])
        ]
        assert removing == [janitor], "the holder removed the job, and only the holder"


async def test_a_stream_on_one_process_ends_when_its_key_is_revoked_on_another(
    tmp_path: Path, set_up: SetUp
) -> None:
    """``/events`` opened on one ``asgard serve`` ends with a ``revoked`` event when its
    key is revoked through another: told by NOTIFY, not found by the 60 s cache."""
    async with (
        replicas(tmp_path, set_up, [], count=2) as (_, processes),
        aiohttp.ClientSession() as session,
    ):
        first, second = (Api.of(session, p) for p in processes)
        made = await first.ok("POST", "/users/me/tokens", 201, json={"name": "doomed"})
        headers = {"Authorization": f"Token {made['token']['key']}"}
        stream = await session.get(f"{processes[1].url}/events", headers=headers)
        assert stream.status == 200
        read = frames(stream)
        assert (await anext(read)).comment == "connected"

        await first.ok("DELETE", f"/users/me/tokens/{made['token']['id']}", 204)
        revoked_at = time.monotonic()
        rest: list[Frame] = []
        async with asyncio.timeout(NOTICE_S + 5):
            async for frame in read:
                rest.append(frame)
        assert time.monotonic() - revoked_at < NOTICE_S + 1, "told, not timed out of a cache"
        assert rest, "the stream says why it ends"
        assert rest[-1].event == "revoked", rest
        assert "API key was revoked" in rest[-1].data["msg"]
        await second.ok("GET", "/users/me")  # the other key goes on
