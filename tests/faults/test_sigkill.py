"""``asgard serve`` killed with SIGKILL in the middle of its work, then started again on
what it left (the same database, data directory and key).

Killed while a workflow's stage runs, the new process takes the workflow over once the
dead one's lease has run out, and the workflow finishes with every stage run once and
its files handed on. Killed while a job is sending its output, nothing half-received is
kept, and once the collector has failed every try, Asgard starts another, which
stores it whole.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import signal
import tarfile
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from testbed.asgard_process import NAMESPACE, RunningAsgard, running_asgard
from testbed.kube import Emulator, items
from tests.conftest import emulated_api
from tests.support.dockerd import TEST_IMAGE, DockerDaemon
from tests.support.kube_controllers import Controllers
from tests.support.remote import Api
from tests.support.watching import eventually

SETTLE_S = 90.0
PUBLIC_URL = "http://asgard.invalid:4898"


def killed(asgard: RunningAsgard) -> None:
    os.kill(asgard.pid, signal.SIGKILL)


def stage(name: str, script: str) -> dict[str, Any]:
    return {"name": name, "image": TEST_IMAGE, "command": ["sh", "-c", script]}


async def test_killed_while_a_stage_runs_the_workflow_still_finishes(
    engine: DockerDaemon, tmp_path: Path
) -> None:
    clusters = [{"name": "local", "kind": "docker", "url": engine.url}]
    folder = tmp_path / "asgard"
    spec = {
        "cluster": "local",
        "name": "report",
        "stages": [
            stage("count", "sleep 3; echo 21 > /output/n.txt"),
            stage("double", "echo $(( $(cat /input/n.txt) * 2 )) > /output/n.txt"),
        ],
    }
    async with aiohttp.ClientSession() as session:
        async with running_asgard(folder, clusters, role="operator") as first:
            body = await Api.of(session, first).ok("POST", "/workflows", 201, json=spec)
            path = f"/clusters/local/workflows/{body['workflow']['id']}"

            async def counting() -> str | None:
                flow = (await Api.of(session, first).ok("GET", path))["workflow"]
                started = flow["stages"][0]
                return started["job_id"] if started["state"] == "running" else None

            counted_by = await eventually(counting, "the first stage running", SETTLE_S)
            killed(first)
        key = first.key

        async with running_asgard(folder, clusters, key=key) as second:

            async def done() -> dict[str, Any] | None:
                flow: dict[str, Any] = (await Api.of(session, second).ok("GET", path))["workflow"]
                return flow if flow["state"] in ("succeeded", "failed", "cancelled") else None

            flow = await eventually(done, "the workflow finished by the second process", SETTLE_S)
            assert flow["state"] == "succeeded", flow
            assert [s["state"] for s in flow["stages"]] == ["succeeded", "succeeded"]
            assert flow["stages"][0]["job_id"] == counted_by, "the stage was not started again"
            runs = engine.cli("ps", "-aq", "--filter", f"label=asgard.job={counted_by}").split()
            assert len(runs) == 1, "the first stage ran once"
            last = flow["stages"][1]["job_id"]
            async with session.get(
                f"{second.url}/clusters/local/jobs/{last}/output", headers=second.headers
            ) as response:
                assert response.status == 200
                with zipfile.ZipFile(io.BytesIO(await response.read())) as archive:
                    assert archive.read("n.txt") == b"42\n"


# the output, sent by the job's collector


def big_tar() -> tuple[bytes, bytes]:
    """A tar of 8 MiB that does not compress, as busybox's collector would send it; the
    file's content."""
    content = os.urandom(8 * 1024 * 1024)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("./results.bin")
        info.size = len(content)
        tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue(), content


async def slowly(data: bytes, sent: asyncio.Event) -> AsyncIterator[bytes]:
    """The body in pieces, a little at a time; ``sent`` once half of it is on its way."""
    piece = 256 * 1024
    for start in range(0, len(data), piece):
        if start >= len(data) // 2:
            sent.set()
        yield data[start : start + piece]
        await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def emulated() -> AsyncIterator[tuple[Emulator, str, Controllers]]:
    """A Kubernetes API emulator with one node, and the controllers the tests play."""
    async with emulated_api() as (emulator, url, session):
        controllers = Controllers(emulator, url, session)
        await controllers.add_node("node-1", cpu="4", memory="8Gi")
        yield emulator, url, controllers


def collector_of(emulator: Emulator, job_id: str, attempt: int = 1) -> tuple[str, str] | None:
    """Where the job's collector sends its output and with which token, once Asgard has
    started its ``attempt``-th collector."""
    found = [
        j
        for j in items(emulator, "batch/v1/jobs", NAMESPACE)
        if j["metadata"]["name"] == f"{job_id}-collect"
        and (j["metadata"].get("annotations") or {}).get("asgard.io/collect-attempt")
        == str(attempt)
    ]
    if not found:
        return None
    container = found[0]["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e for e in container["env"]}
    secret_name = env["ASGARD_TOKEN"]["valueFrom"]["secretKeyRef"]["name"]
    token = next(
        s for s in items(emulator, "v1/secrets", NAMESPACE) if s["metadata"]["name"] == secret_name
    )["stringData"]["token"]
    return urlsplit(env["ASGARD_URL"]["value"]).path, token


async def send(
    session: aiohttp.ClientSession, asgard: RunningAsgard, path: str, token: str, body: Any
) -> int:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/x-tar"}
    async with session.post(f"{asgard.url}{path}", data=body, headers=headers) as response:
        return response.status


async def test_killed_while_a_job_sends_its_output_the_next_try_keeps_it_whole(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "asgard"
    settings = {"ASGARD_PUBLIC_URL": PUBLIC_URL}
    tar, content = big_tar()
    async with emulated() as (emulator, url, controllers), aiohttp.ClientSession() as session:
        clusters = [{"name": "k8s", "kind": "kubernetes", "url": url, "token": "t"}]
        async with running_asgard(folder, clusters, role="operator", settings=settings) as first:
            job = {"cluster": "k8s", "name": "crunch", "image": "crunch:1"}
            body = await Api.of(session, first).ok("POST", "/jobs", 201, json=job)
            job_id = body["job"]["id"]
            await controllers.end_job(NAMESPACE, job_id, 0)

            async def collecting() -> tuple[str, str] | None:
                return collector_of(emulator, job_id)

            path, token = await eventually(collecting, "a collector started by Asgard", 30)
            half_sent = asyncio.Event()
            sending = asyncio.create_task(send(session, first, path, token, slowly(tar, half_sent)))
            await asyncio.wait_for(half_sent.wait(), 30)
            killed(first)
            try:
                status = await sending
            except aiohttp.ClientError:
                status = 0  # the connection went with the process, as the collector sees it
            assert status != 204, "a body cut in half was not taken"

        async with running_asgard(folder, clusters, key=first.key, settings=settings) as second:
            output = f"/clusters/k8s/jobs/{job_id}/output"
            async with session.get(f"{second.url}{output}", headers=second.headers) as response:
                assert response.status == 404, "nothing half-received is kept"
            # Every try of the collector's pod failed while Asgard was away: Asgard starts
            # another collector, which sends it all.
            await controllers.end_job(NAMESPACE, f"{job_id}-collect", 1)

            async def replaced() -> tuple[str, str] | None:
                return collector_of(emulator, job_id, attempt=2)

            path, token = await eventually(replaced, "a second collector", 30)
            assert await send(session, second, path, token, tar) == 204
            async with session.get(f"{second.url}{output}", headers=second.headers) as response:
                assert response.status == 200
                with zipfile.ZipFile(io.BytesIO(await response.read())) as archive:
                    assert archive.read("results.bin") == content, "the output is whole"
