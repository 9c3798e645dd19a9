"""Workflows on a real Docker Engine: stages in order, files handed on, failures stop
the line except for always_run stages, and deleting leaves nothing."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from asgard.backends.docker.config import DockerClusterConfig
from asgard.backends.orchestrator import Orchestrator
from asgard.models import Role
from asgard.testing.files import unzip
from tests.conftest import StartAsgard, backend_context, build
from tests.support.asgard import Caller
from tests.support.dockerd import TEST_IMAGE, DockerDaemon
from tests.support.gate_proxy import GateProxy
from tests.support.resources import needs
from tests.support.sse import sse

SETTLE_S = 90


@pytest.fixture
@needs("docker")
def daemon(request: pytest.FixtureRequest) -> DockerDaemon:
    """The single engine, unless a test asks for ``swarm`` too (``indirect`` parameter)."""
    found: DockerDaemon = request.getfixturevalue(getattr(request, "param", "engine"))
    return found


BOTH_MODES = pytest.mark.parametrize("daemon", ["engine", "swarm"], indirect=True)


@pytest.fixture
async def dev(
    start_asgard: StartAsgard, daemon: DockerDaemon, tmp_path: Path
) -> AsyncIterator[Caller]:
    config = DockerClusterConfig(name="local", url=daemon.url, job_retention_s=3600)
    data_dir = tmp_path / "data"
    cluster = await build(config, backend_context(data_dir))
    asgard = await start_asgard(
        Orchestrator([cluster]), data_dir=data_dir, workflow_tick_s=0.2, reconcile_s=3600
    )
    account = await asgard.account("dev")
    yield await asgard.caller("dev@example.com", roles={account.id: Role.OPERATOR})
    await cluster.close()


def stage(name: str, script: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "image": TEST_IMAGE, "command": ["sh", "-c", script], **extra}


async def finished(dev: Caller, workflow_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + SETTLE_S
    while True:
        flow = (await dev.json("GET", f"/clusters/local/workflows/{workflow_id}"))["workflow"]
        if flow["state"] in ("succeeded", "failed", "cancelled"):
            return dict(flow)
        assert time.monotonic() < deadline, f"still {flow['state']}: {flow['stages']}"
        await asyncio.sleep(0.3)


def workflow_volumes(daemon: DockerDaemon, workflow_id: str) -> list[str]:
    listed = daemon.cli("volume", "ls", "-q", "--filter", f"label=asgard.workflow={workflow_id}")
    return sorted(listed.split())


def volume_files(daemon: DockerDaemon, volume: str) -> dict[str, str]:
    """Every file in a volume and what it holds, read by a container of our own."""
    listing = daemon.cli(
        "run",
        "--rm",
        "-v",
        f"{volume}:/v:ro",
        TEST_IMAGE,
        "sh",
        "-c",
        'cd /v && for f in $(find . -type f | sort); do echo "$f=$(cat $f)"; done',
    )
    return dict(line.removeprefix("./").split("=", 1) for line in listing.splitlines())


async def test_three_stages_hand_their_files_on(dev: Caller, daemon: DockerDaemon) -> None:
    spec = {
        "cluster": "local",
        "name": "report",
        "stages": [
            stage("count", "echo 21 > /output/n.txt"),
            stage("double", "echo $(( $(cat /input/n.txt) * 2 )) > /output/n.txt"),
            stage("publish", "echo published: $(cat /input/n.txt) > /output/result.txt"),
        ],
    }
    created = (await dev.json("POST", "/workflows", status=201, json=spec))["workflow"]
    assert created["id"].startswith("report-")
    assert [s["name"] for s in created["stages"]] == ["count", "double", "publish"]
    assert created["state"] == "pending"

    flow = await finished(dev, created["id"])
    assert flow["state"] == "succeeded", flow
    assert [s["state"] for s in flow["stages"]] == ["succeeded"] * 3
    starts = [s["started_at"] for s in flow["stages"]]
    ends = [s["finished_at"] for s in flow["stages"]]
    assert starts[1] >= ends[0], f"one after the other: {flow['stages']}"
    assert starts[2] >= ends[1], f"one after the other: {flow['stages']}"
    last = flow["stages"][2]["job_id"]
    output = await dev.get(f"/clusters/local/jobs/{last}/output")
    assert unzip(await output.read()) == {"result.txt": b"published: 42\n"}
    listed = (await dev.json("GET", "/workflows"))["workflows"]
    assert [(w["id"], w["state"]) for w in listed] == [(created["id"], "succeeded")]

    # The stages shared one volume, a folder each: what they wrote is all there.
    shared = f"dev__wf_{created['id']}"
    assert shared in workflow_volumes(daemon, created["id"])
    assert volume_files(daemon, shared) == {
        "stage-0/n.txt": "21",
        "stage-1/n.txt": "42",
        "stage-2/result.txt": "published: 42",
    }
    await dev.json("DELETE", f"/clusters/local/workflows/{created['id']}", status=204)
    assert workflow_volumes(daemon, created["id"]) == []
    assert daemon.cli("volume", "ls", "-q").split() == [], "the stages' volumes went too"


async def test_a_failed_stage_stops_all_but_always_run_stages(dev: Caller) -> None:
    spec = {
        "cluster": "local",
        "name": "broken",
        "stages": [
            stage("prepare", "echo data > /output/data.txt"),
            stage("compute", "echo giving up >&2; exit 3"),
            stage("publish", "cp /input/* /output/"),
            stage("report", "echo the run ended > /output/report.txt", always_run=True),
        ],
    }
    created = (await dev.json("POST", "/workflows", status=201, json=spec))["workflow"]
    flow = await finished(dev, created["id"])
    assert flow["state"] == "failed"
    assert "compute" in flow["message"]
    states = {s["name"]: s for s in flow["stages"]}
    assert states["prepare"]["state"] == "succeeded"
    assert states["compute"]["state"] == "failed"
    assert "3" in states["compute"]["message"]
    assert states["publish"]["state"] == "cancelled"
    assert states["publish"]["job_id"] is None, "a stage after a failure never starts"
    assert states["report"]["state"] == "succeeded", "always_run runs after a failure"
    logs = await dev.get(f"/clusters/local/workflows/{created['id']}/stages/compute/logs")
    assert (logs.status, await logs.text()) == (200, "giving up\n")
    await dev.json(
        "GET", f"/clusters/local/workflows/{created['id']}/stages/publish/logs", status=404
    )
    await dev.json(
        "GET", f"/clusters/local/workflows/{created['id']}/stages/nowhere/logs", status=404
    )
    report = await dev.get(f"/clusters/local/jobs/{states['report']['job_id']}/output")
    assert unzip(await report.read()) == {"report.txt": b"the run ended\n"}


@BOTH_MODES
async def test_delete_stops_the_running_stage_and_leaves_nothing(
    dev: Caller, daemon: DockerDaemon
) -> None:
    spec = {"cluster": "local", "name": "long", "stages": [stage("wait", "sleep 600")]}
    created = (await dev.json("POST", "/workflows", status=201, json=spec))["workflow"]
    deadline = time.monotonic() + SETTLE_S
    while True:
        flow = (await dev.json("GET", f"/clusters/local/workflows/{created['id']}"))["workflow"]
        if flow["stages"][0]["job_id"]:
            break
        assert time.monotonic() < deadline
        await asyncio.sleep(0.2)
    job_id = flow["stages"][0]["job_id"]
    await dev.json("DELETE", f"/clusters/local/workflows/{created['id']}", status=204)
    await dev.json("GET", f"/clusters/local/workflows/{created['id']}", status=404)
    await dev.json("GET", f"/clusters/local/jobs/{job_id}", status=404)
    assert daemon.cli("ps", "-aq", "--filter", f"label=asgard.job={job_id}").strip() == ""
    assert daemon.cli("volume", "ls", "-q").split() == []
    assert (await dev.json("GET", "/workflows"))["workflows"] == []


HELD_LAUNCH = {
    # the engine: the stage's container exists, holding the volume, and is being started
    "engine": ("POST", r"/containers/[^/]+/start$"),
    # Swarm: the stage's service is being created
    "swarm": ("POST", r"/services/create$"),
}


@BOTH_MODES
async def test_a_workflow_deleted_while_its_first_stage_starts_leaves_nothing(
    start_asgard: StartAsgard, daemon: DockerDaemon, tmp_path: Path
) -> None:
    """The DELETE lands while the runner is starting the first stage: the engine holds
    the runner's call (behind a gate) until the workflow is gone from every read. The
    DELETE answers once the stage's job and the volume are gone, and nothing is left."""
    proxy = GateProxy(str(daemon.socket))
    config = DockerClusterConfig(name="local", url=await proxy.start(), job_retention_s=3600)
    data_dir = tmp_path / "data"
    cluster = await build(config, backend_context(data_dir))
    try:
        asgard = await start_asgard(
            Orchestrator([cluster]), data_dir=data_dir, workflow_tick_s=0.2, reconcile_s=3600
        )
        account = await asgard.account("dev")
        dev = await asgard.caller("dev@example.com", roles={account.id: Role.OPERATOR})
        gate = proxy.hold(*HELD_LAUNCH[daemon.name])
        spec = {"cluster": "local", "name": "held", "stages": [stage("wait", "sleep 600")]}
        created = (await dev.json("POST", "/workflows", status=201, json=spec))["workflow"]
        one = f"/clusters/local/workflows/{created['id']}"
        await asyncio.wait_for(gate.arrived.wait(), SETTLE_S)  # the runner is starting it
        deleting = asyncio.create_task(dev.json("DELETE", one, status=204))
        deadline = time.monotonic() + 10
        while (await dev.get(one)).status != 404:  # hidden as soon as it is taken
            assert time.monotonic() < deadline, "the workflow is still shown after its DELETE"
            await asyncio.sleep(0.1)
        assert not deleting.done(), "the DELETE answered before the stage it raced was removed"
        gate.release()
        await asyncio.wait_for(deleting, SETTLE_S)
        assert daemon.cli("ps", "-aq", "--filter", "label=asgard.job").strip() == ""
        if daemon.name == "swarm":
            assert daemon.cli("service", "ls", "-q").strip() == ""
        assert workflow_volumes(daemon, created["id"]) == []
        assert (await dev.json("GET", "/workflows"))["workflows"] == []
        assert (await dev.json("GET", "/jobs"))["jobs"] == [], "no stage job is left recorded"
    finally:
        await cluster.close()
        await proxy.close()


async def test_every_process_streams_workflow_changes(
    start_asgard: StartAsgard, engine: DockerDaemon, tmp_path: Path
) -> None:
    """Two Asgard processes on one database: only one moves workflows on, and a listener on
    either hears every change, whichever process made it."""
    data_dir = tmp_path / "data"
    config = DockerClusterConfig(name="local", url=engine.url, job_retention_s=3600)
    clusters = [await build(config, backend_context(data_dir)) for _ in range(2)]
    settings: dict[str, Any] = {"data_dir": data_dir, "workflow_tick_s": 0.2, "reconcile_s": 3600}
    first = await start_asgard(Orchestrator([clusters[0]]), **settings)
    second = await start_asgard(Orchestrator([clusters[1]]), **settings)
    account = await first.account("dev")
    dev = await first.caller("dev@example.com", roles={account.id: Role.OPERATOR})
    same_user = Caller(client=second.client, user=dev.user, key=dev.key)
    try:
        streams = [await dev.get("/events"), await same_user.get("/events")]
        assert [s.status for s in streams] == [200, 200]
        spec = {
            "cluster": "local",
            "name": "heard",
            "stages": [stage("one", "echo 1 > /output/n"), stage("two", "cat /input/n")],
        }
        created = (await dev.json("POST", "/workflows", status=201, json=spec))["workflow"]
        for stream in streams:
            heard: list[dict[str, Any]] = []
            async with asyncio.timeout(SETTLE_S):
                async for event in sse(stream):
                    if event["kind"] == "workflow":
                        heard.append(event)
                        if event["object"] and event["object"]["state"] == "succeeded":
                            break
            assert {e["id"] for e in heard} == {created["id"]}
            assert [e["change"] for e in heard] == ["added"] + ["modified"] * (len(heard) - 1)
            assert heard[-1]["object"]["stages"][1]["state"] == "succeeded"

        await same_user.json("DELETE", f"/clusters/local/workflows/{created['id']}", status=204)
        for stream in streams:
            async with asyncio.timeout(10):
                async for event in sse(stream):
                    if event["kind"] == "workflow":
                        assert (event["id"], event["change"], event["object"]) == (
                            created["id"],
                            "deleted",
                            None,
                        )
                        break
            stream.close()
    finally:
        for cluster in clusters:
            await cluster.close()


async def test_a_workflow_past_its_timeout_is_stopped(dev: Caller) -> None:
    spec = {
        "cluster": "local",
        "name": "slow",
        "timeout_s": 2,
        "stages": [stage("wait", "sleep 600"), stage("after", "true", always_run=True)],
    }
    created = (await dev.json("POST", "/workflows", status=201, json=spec))["workflow"]
    flow = await finished(dev, created["id"])
    assert flow["state"] == "failed"
    assert "timeout of 2 s" in flow["message"]
    assert [s["state"] for s in flow["stages"]] == ["cancelled", "cancelled"]


async def test_bad_workflows_are_refused(dev: Caller) -> None:
    twice = {"cluster": "local", "name": "x", "stages": [stage("a", "true"), stage("a", "true")]}
    refused = await dev.json("POST", "/workflows", status=422, json=twice)
    assert refused["errors"][0]["field"] == "stages"
    await dev.json("POST", "/workflows", status=422, json={"cluster": "local", "name": "x"})
    huge = {"cluster": "local", "name": "x", "stages": [stage("a", "true")]}
    refused = await dev.json(
        "POST", "/workflows", status=422, json={**huge, "volume": {"size": "lots"}}
    )
    assert refused["errors"][0]["field"] == "volume.size"
    refused = await dev.json(
        "POST", "/workflows", status=422, json={**huge, "volume": {"access_mode": "ReadOnlyMany"}}
    )
    assert refused["errors"][0]["field"] == "volume.access_mode"
    unknown = {"cluster": "nowhere", "name": "x", "stages": [stage("a", "true")]}
    await dev.json("POST", "/workflows", status=404, json=unknown)
    assert (await dev.json("GET", "/workflows"))["workflows"] == []


async def test_a_finished_workflow_is_forgotten_after_the_retention_time(
    start_asgard: StartAsgard, engine: DockerDaemon, tmp_path: Path
) -> None:
    config = DockerClusterConfig(name="local", url=engine.url, job_retention_s=3600)
    data_dir = tmp_path / "data"
    cluster = await build(config, backend_context(data_dir))
    asgard = await start_asgard(
        Orchestrator([cluster]),
        data_dir=data_dir,
        workflow_tick_s=0.2,
        reconcile_s=3600,
        job_retention_s=3,
    )
    account = await asgard.account("dev")
    dev = await asgard.caller("dev@example.com", roles={account.id: Role.OPERATOR})
    try:
        spec = {"cluster": "local", "name": "brief", "stages": [stage("a", "echo hi > /output/x")]}
        created = (await dev.json("POST", "/workflows", status=201, json=spec))["workflow"]
        flow = await finished(dev, created["id"])
        assert flow["state"] == "succeeded"
        job_id = flow["stages"][0]["job_id"]
        # Kept for the retention time after it ended, with what it made...
        assert workflow_volumes(engine, created["id"]) != []
        await dev.json("GET", f"/clusters/local/jobs/{job_id}")

        # ...then gone as if deleted: the workflow (hidden first), its stage's job and the
        # volume (removed by the runner right after, or at its next tick while in use).
        async def forgotten() -> bool:
            statuses = []
            for path in (
                f"/clusters/local/workflows/{created['id']}",
                f"/clusters/local/jobs/{job_id}",
            ):
                response = await dev.get(path)
                response.release()
                statuses.append(response.status)
            return statuses == [404, 404] and workflow_volumes(engine, created["id"]) == []

        deadline = time.monotonic() + SETTLE_S
        while not await forgotten():
            assert time.monotonic() < deadline, "the workflow was never forgotten"
            await asyncio.sleep(0.3)
        assert engine.cli("ps", "-aq", "--filter", f"label=asgard.job={job_id}").strip() == ""
    finally:
        await cluster.close()
