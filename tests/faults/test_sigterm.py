"""``asgard serve`` stopped with SIGTERM, as a rolling restart stops a replica: it gives
its leases up at once (another process need not wait for them to run out), ends its
``/events`` streams with a ``retry`` hint so clients reconnect elsewhere, answers
``/ready`` with 503 while it goes, and exits well within its grace period."""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import sqlite3
import time
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp

from testbed.asgard_process import RunningAsgard, running_asgard
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
    """A job's input is still being uploaded when SIGTERM comes: the upload goes on, the
    job is made (201), and then the process exits. (Followed logs, like ``/events``, are
    ended at once instead: they could run for days.)"""
    clusters = [{"name": "local", "kind": "docker", "url": engine.url}]
    settings = {"ASGARD_SHUTDOWN_GRACE_S": str(GRACE_S)}
    async with (
        running_asgard(tmp_path, clusters, role="operator", settings=settings) as asgard,
        aiohttp.ClientSession() as session,
    ):
        spec = {"cluster": "local", "name": "slow", "image": TEST_IMAGE, "command": ["true"]}
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("data.bin", os.urandom(256 * 1024))
        zipped = buffer.getvalue()
        boundary = "asgard-sigterm-test"
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="spec"\r\n'
            f"Content-Type: application/json\r\n\r\n{json.dumps(spec)}\r\n"
            f'--{boundary}\r\nContent-Disposition: form-data; name="input"; filename="in.zip"'
            "\r\nContent-Type: application/zip\r\n\r\n"
        ).encode()
        sent_some = asyncio.Event()

        async def slowly() -> AsyncIterator[bytes]:
            yield head
            chunk = len(zipped) // 8 + 1
            for start in range(0, len(zipped), chunk):
                yield zipped[start : start + chunk]
                sent_some.set()
                await asyncio.sleep(0.4)  # about 3 s in all, SIGTERM comes in the middle
            yield f"\r\n--{boundary}--\r\n".encode()

        headers = {**asgard.headers, "Content-Type": f"multipart/form-data; boundary={boundary}"}
        upload = asyncio.create_task(
            session.post(f"{asgard.url}/jobs", data=slowly(), headers=headers)
        )
        await sent_some.wait()
        os.kill(asgard.pid, signal.SIGTERM)
        async with asyncio.timeout(GRACE_S):
            response = await upload
            assert response.status == 201, await response.text()
            assert (await response.json())["job"]["name"] == "slow"

        async def gone() -> bool:
            return exited(asgard.pid)

        await eventually(gone, "the process exits once nothing is in flight", GRACE_S)
    assert "Traceback" not in asgard.log.read_text()
