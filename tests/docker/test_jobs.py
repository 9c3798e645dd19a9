"""One-time jobs on a real Docker Engine, single and Swarm, through the HTTP API alone."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from asgard.backends.docker.config import DockerClusterConfig
from asgard.backends.orchestrator import Orchestrator
from asgard.events import EventHub
from asgard.models import Role
from asgard.testing.files import a_zip, unzip
from tests.conftest import StartAsgard, backend_context, build
from tests.docker.test_apps import ENGINE_ALONE
from tests.support.asgard import AsgardUnderTest, Caller
from tests.support.dockerd import TEST_IMAGE, DockerDaemon

SETTLE_S = 60


@dataclass
class Env:
    asgard: AsgardUnderTest
    daemon: DockerDaemon
    dev: Caller
    ops: Caller
    data_dir: Path


@pytest.fixture(params=["engine", "swarm"])
async def env(
    request: pytest.FixtureRequest, start_asgard: StartAsgard, tmp_path: Path
) -> AsyncIterator[Env]:
    daemon: DockerDaemon = request.getfixturevalue(request.param)
    config = DockerClusterConfig(name="local", url=daemon.url, job_retention_s=3600)
    data_dir = tmp_path / "data"
    cluster = await build(config, backend_context(data_dir))
    asgard = await start_asgard(Orchestrator([cluster]), data_dir=data_dir)
    dev = await asgard.account("dev")
    ops = await asgard.account("ops")
    yield Env(
        asgard=asgard,
        daemon=daemon,
        dev=await asgard.caller("dev@example.com", roles={dev.id: Role.OPERATOR}),
        ops=await asgard.caller("ops@example.com", roles={ops.id: Role.OPERATOR}),
        data_dir=data_dir,
    )
    await cluster.close()


def job(name: str, script: str, **extra: Any) -> dict[str, Any]:
    return {
        "cluster": "local",
        "name": name,
        "image": TEST_IMAGE,
        "command": ["sh", "-c", script],
        **extra,
    }


async def finished(caller: Caller, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + SETTLE_S
    while time.monotonic() < deadline:
        body = await caller.json("GET", f"/clusters/local/jobs/{job_id}")
        if body["job"]["status"]["state"] in ("succeeded", "failed", "cancelled"):
            return dict(body["job"])
        await asyncio.sleep(0.3)
    raise AssertionError(f"job {job_id} did not finish")


@ENGINE_ALONE
async def test_a_job_turns_its_input_into_output(env: Env) -> None:
    script = "wc -l < /input/data/lines.txt | tr -d ' ' > /output/count.txt && cat /input/note.txt"
    form = aiohttp.FormData()
    form.add_field("spec", json.dumps(job("count", script)), content_type="application/json")
    form.add_field(
        "input",
        a_zip({"data/lines.txt": b"a\nb\nc\n", "note.txt": b"hello from the input\n"}),
        filename="input.zip",
        content_type="application/zip",
    )
    created = await env.dev.json("POST", "/jobs", status=201, data=form)
    job_id = created["job"]["id"]
    assert job_id.startswith("count-")
    assert created["job"]["status"]["state"] in ("pending", "running", "succeeded")

    done = await finished(env.dev, job_id)
    assert done["status"]["state"] == "succeeded"
    assert done["status"]["exit_code"] == 0
    assert done["status"]["succeeded"] == 1
    assert done["status"]["finished_at"] is not None
    assert done["command"] == ["sh", "-c", script]

    response = await env.dev.get(f"/clusters/local/jobs/{job_id}/output")
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/zip"
    assert unzip(await response.read()) == {"count.txt": b"3\n"}
    logs = await env.dev.get(f"/clusters/local/jobs/{job_id}/logs")
    assert await logs.text() == "hello from the input\n"


@ENGINE_ALONE
async def test_a_failing_job_says_why(env: Env) -> None:
    created = await env.dev.json(
        "POST", "/jobs", status=201, json=job("boom", "echo something broke >&2; exit 3")
    )
    done = await finished(env.dev, created["job"]["id"])
    assert done["status"]["state"] == "failed"
    assert done["status"]["exit_code"] == 3
    assert done["status"]["failed"] == 1
    assert done["status"]["message"] == "exited with code 3"
    logs = await env.dev.get(f"/clusters/local/jobs/{done['id']}/logs")
    assert "something broke" in await logs.text()
    listed = await env.dev.json("GET", "/jobs?state=failed")
    assert [j["id"] for j in listed["jobs"]] == [done["id"]]
    assert (await env.dev.json("GET", "/jobs?state=succeeded"))["jobs"] == []


async def test_a_cached_listing_shows_a_job_ended_once_its_output_is_kept(
    engine: DockerDaemon, start_asgard: StartAsgard, tmp_path: Path
) -> None:
    """As served: listings come from the cache, which the engine's events keep current.
    The engine's ``die`` has the cache read a job that still shows running (its output is
    being collected); keeping the output is Asgard's own work, announced by no engine
    event, so the backend nudges the cache, or the listing says running for ever."""
    data_dir = tmp_path / "data"
    config = DockerClusterConfig(name="local", url=engine.url, job_retention_s=3600)
    fleet = Orchestrator([await build(config, backend_context(data_dir))])
    hub = EventHub()
    fleet.enable_caches(hub)
    try:
        asgard = await start_asgard(fleet, hub=hub, data_dir=data_dir)
        dev = await asgard.account("dev")
        caller = await asgard.caller("dev@example.com", roles={dev.id: Role.OPERATOR})
        assert (await caller.json("GET", "/jobs"))["jobs"] == []  # the scope is now cached
        script = "head -c 4000000 /dev/zero > /output/big && echo done"
        created = await caller.json("POST", "/jobs", status=201, json=job("kept", script))
        done = await finished(caller, created["job"]["id"])
        assert done["status"]["state"] == "succeeded"

        deadline = time.monotonic() + 10
        while True:
            listed = (await caller.json("GET", "/jobs"))["jobs"]
            states = [(j["id"], j["status"]["state"]) for j in listed]
            if states == [(done["id"], "succeeded")] or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
        assert states == [(done["id"], "succeeded")]
    finally:
        await fleet.close()


async def test_retries_restart_a_failed_job(env: Env) -> None:
    created = await env.dev.json(
        "POST", "/jobs", status=201, json=job("flaky", "echo try; exit 1", retries=2)
    )
    done = await finished(env.dev, created["job"]["id"])
    assert done["status"]["state"] == "failed"
    assert done["status"]["failed"] == 3
    assert "after 2 retries" in done["status"]["message"]
    logs = await (await env.dev.get(f"/clusters/local/jobs/{done['id']}/logs")).text()
    assert logs.count("try") == 3


async def test_a_job_over_its_timeout_is_killed_and_says_so(env: Env) -> None:
    created = await env.dev.json(
        "POST", "/jobs", status=201, json=job("slow", "echo started; sleep 600", timeout_s=2)
    )
    started = time.monotonic()
    done = await finished(env.dev, created["job"]["id"])
    assert time.monotonic() - started < 30
    assert done["status"]["state"] == "failed"
    assert done["status"]["message"] == "killed after its timeout of 2 s"

    async def stopped() -> bool:
        containers = env.daemon.cli(
            "ps", "-q", "--filter", f"label=asgard.job={done['id']}"
        ).split()
        return not containers

    deadline = time.monotonic() + SETTLE_S
    while not await stopped():
        assert time.monotonic() < deadline, "the job's container is still running"
        await asyncio.sleep(0.3)


async def test_jobs_run_without_privileges(env: Env) -> None:
    created = await env.dev.json(
        "POST",
        "/jobs",
        status=201,
        json=job("caps", "grep CapEff /proc/self/status; ls /var/run/docker.sock || true"),
    )
    done = await finished(env.dev, created["job"]["id"])
    logs = await (await env.dev.get(f"/clusters/local/jobs/{done['id']}/logs")).text()
    assert "CapEff:\t0000000000000000" in logs
    assert "No such file" in logs
    container = env.daemon.cli("ps", "-aq", "--filter", f"label=asgard.job={done['id']}").split()[0]
    host = json.loads(env.daemon.cli("inspect", container))[0]["HostConfig"]
    assert host["Privileged"] is False
    assert not any("docker.sock" in b for b in host.get("Binds") or [])


@ENGINE_ALONE
async def test_output_is_404_until_the_job_has_finished(env: Env) -> None:
    created = await env.dev.json("POST", "/jobs", status=201, json=job("wait", "sleep 600"))
    response = await env.dev.get(f"/clusters/local/jobs/{created['job']['id']}/output")
    assert response.status == 404
    assert "not finished" in (await response.json())["errors"][0]["msg"]


@ENGINE_ALONE
async def test_delete_cancels_and_leaves_nothing(env: Env) -> None:
    form = aiohttp.FormData()
    form.add_field("spec", json.dumps(job("long", "sleep 600")), content_type="application/json")
    form.add_field("input", a_zip({"x": b"1"}), filename="in.zip", content_type="application/zip")
    created = await env.dev.json("POST", "/jobs", status=201, data=form)
    job_id = created["job"]["id"]
    store = env.data_dir / "artifacts" / "local" / "dev" / job_id
    assert (store / "input.zip").exists()

    await env.dev.json("DELETE", f"/clusters/local/jobs/{job_id}", status=204)
    assert (await env.dev.get(f"/clusters/local/jobs/{job_id}")).status == 404
    assert env.daemon.cli("ps", "-aq", "--filter", f"label=asgard.job={job_id}").split() == []
    assert (
        env.daemon.cli("volume", "ls", "-q", "--filter", f"label=asgard.job={job_id}").split() == []
    )
    if env.daemon.is_swarm():
        assert (
            env.daemon.cli("service", "ls", "-q", "--filter", f"label=asgard.job={job_id}").split()
            == []
        )
    assert not store.exists()


@ENGINE_ALONE
async def test_another_account_cannot_see_or_touch_a_job(env: Env) -> None:
    created = await env.dev.json("POST", "/jobs", status=201, json=job("mine", "sleep 600"))
    job_id = created["job"]["id"]
    assert (await env.ops.json("GET", "/jobs"))["jobs"] == []
    for method, path in (
        ("GET", ""),
        ("DELETE", ""),
        ("GET", "/logs"),
        ("GET", "/output"),
    ):
        response = await env.ops.request(method, f"/clusters/local/jobs/{job_id}{path}")
        assert response.status == 404, (method, path)
    assert [j["id"] for j in (await env.dev.json("GET", "/jobs"))["jobs"]] == [job_id]


async def test_an_unknown_image_is_422_and_leaves_nothing(env: Env) -> None:
    response = await env.dev.post("/jobs", json={**job("x", "true"), "image": "asgard-test/nope:1"})
    assert response.status == 422
    assert (await response.json())["errors"][0]["field"] == "image"
    assert env.daemon.cli("ps", "-aq", "--filter", "label=asgard.job").split() == []
    assert env.daemon.cli("volume", "ls", "-q", "--filter", "label=asgard.job").split() == []


@ENGINE_ALONE
async def test_bad_uploads_are_refused(env: Env) -> None:
    form = aiohttp.FormData()
    form.add_field("spec", json.dumps(job("x", "true")), content_type="application/json")
    form.add_field("input", b"not a zip", filename="in.zip")
    response = await env.dev.post("/jobs", data=form)
    assert response.status == 422
    assert (await response.json())["errors"][0]["field"] == "input"

    form = aiohttp.FormData()
    form.add_field("input", a_zip({"a": b"1"}), filename="in.zip")
    response = await env.dev.post("/jobs", data=form)
    assert response.status == 422
    assert (await response.json())["errors"][0]["field"] == "spec"

    form = aiohttp.FormData()
    form.add_field("spec", "{not json", content_type="application/json")
    assert (await env.dev.post("/jobs", data=form)).status == 400
    assert env.daemon.cli("ps", "-aq", "--filter", "label=asgard.job").split() == []
