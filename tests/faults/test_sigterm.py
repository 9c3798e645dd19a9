"""``asgard serve`` stopped with SIGTERM, as a rolling restart stops a replica: it gives
its leases up at once (another process need not wait for them to run out), ends its
``/events`` streams with a ``retry`` hint so clients reconnect elsewhere, answers
``/ready`` with 503 while it goes, and exits well within its grace period."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import time
from pathlib import Path

import aiohttp

from bench.asgard_process import RunningAsgard, running_asgard
from tests.support.dockerd import TEST_IMAGE, DockerDaemon
from tests.support.watching import eventually

GRACE_S = 20


def leases(db: Path) -> dict[str, str]:
    with sqlite3.connect(db) as connection:
        return dict(connection.execute("SELECT name, holder FROM leases").fetchall())


def exited(pid: int) -> bool:
    """Gone, or a zombie waiting for its parent: the process itself has ended."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "State:\tZ" in status


async def test_sigterm_gives_leases_up_and_ends_streams_with_a_retry_hint(
    tmp_path: Path,
) -> None:
    settings = {
        "ASGARD_SHUTDOWN_GRACE_S": str(GRACE_S),
        "ASGARD_WORKFLOW_TICK_S": "0.2",
        "ASGARD_SCHEDULER_TICK_S": "0.2",
    }
    async with (
        running_asgard(tmp_path, [], settings=settings) as asgard,
        aiohttp.ClientSession() as session,
    ):
        await stopped_gracefully(asgard, session, tmp_path / "asgard.db")


async def stopped_gracefully(
    asgard: RunningAsgard, session: aiohttp.ClientSession, db: Path
) -> None:
    async with session.get(f"{asgard.url}/ready") as ready:
        assert ready.status == 200
        assert (await ready.json())["status"] == "ready"

    async def leases_held() -> bool:
        return {"workflows", "scheduler"} <= set(leases(db))

    await eventually(leases_held, "the background work holds its leases", 30)

    stream = await session.get(f"{asgard.url}/events", headers=asgard.headers)
    assert stream.status == 200
    assert await stream.content.readline() == b": connected\n"

    sent = time.monotonic()
    os.kill(asgard.pid, signal.SIGTERM)
    async with asyncio.timeout(10):
        rest = await stream.content.read()
    stream.close()
    assert b"retry: 1000\n" in rest, rest
    assert b"event: closing\n" in rest, rest

    async def gone() -> bool:
        return exited(asgard.pid)

    await eventually(gone, "the process exits", GRACE_S)
    assert time.monotonic() - sent < GRACE_S / 2, "nothing held the shutdown up"
    assert leases(db) == {}, "every lease was given up, none left to run out"
    log = asgard.log.read_text()
    assert "leases given up" in log
    assert "Traceback" not in log


async def test_sigterm_lets_a_request_in_flight_finish(
    tmp_path: Path, engine: DockerDaemon
) -> None:
    """A job's followed logs are in flight when SIGTERM comes: the stream goes on to the
    job's end (within the grace period), then the process exits."""
    clusters = [{"name": "local", "kind": "docker", "url": engine.url}]
    settings = {"ASGARD_SHUTDOWN_GRACE_S": str(GRACE_S)}
    async with (
        running_asgard(tmp_path, clusters, role="operator", settings=settings) as asgard,
        aiohttp.ClientSession() as session,
    ):
        script = "echo started; sleep 3; echo finished"
        spec = {
            "cluster": "local",
            "name": "slow",
            "image": TEST_IMAGE,
            "command": ["sh", "-c", script],
        }
        async with session.post(f"{asgard.url}/jobs", json=spec, headers=asgard.headers) as made:
            assert made.status == 201, await made.text()
            job_id = (await made.json())["job"]["id"]
        logs = await session.get(
            f"{asgard.url}/clusters/local/jobs/{job_id}/logs?follow=true", headers=asgard.headers
        )
        assert logs.status == 200
        async with asyncio.timeout(30):
            assert await logs.content.readline() == b"started\n"
        os.kill(asgard.pid, signal.SIGTERM)
        async with asyncio.timeout(GRACE_S):
            rest = await logs.content.read()
        assert rest == b"finished\n", "the stream in flight ran to its end"

        async def gone() -> bool:
            return exited(asgard.pid)

        await eventually(gone, "the process exits once nothing is in flight", GRACE_S)
