"""Jobs outlive the Asgard that started them, and go once their retention has passed."""

from __future__ import annotations

import asyncio
import io
import time
import zipfile
from pathlib import Path

from asgard.backends.docker.config import DockerClusterConfig
from asgard.backends.orchestrator import Orchestrator
from asgard.models import Role
from tests.conftest import StartAsgard, backend_context, build
from tests.support.asgard import Caller
from tests.support.dockerd import TEST_IMAGE, DockerDaemon


async def test_a_restarted_asgard_still_stops_the_job_and_keeps_its_output(
    start_asgard: StartAsgard, engine: DockerDaemon, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    config = DockerClusterConfig(name="local", url=engine.url)
    first_cluster = await build(config, backend_context(data_dir))
    first = await start_asgard(Orchestrator([first_cluster]), data_dir=data_dir)
    account = await first.account("dev")
    caller = await first.caller("dev@example.com", roles={account.id: Role.OPERATOR})
    script = "echo partial > /output/partial.txt; sleep 600"
    created = await caller.json(
        "POST",
        "/jobs",
        status=201,
        json={
            "cluster": "local",
            "name": "long",
            "image": TEST_IMAGE,
            "command": ["sh", "-c", script],
            "timeout_s": 4,
        },
    )
    job_id = created["job"]["id"]
    await first_cluster.close()  # Asgard goes away; its watchers with it

    second_cluster = await build(config, backend_context(data_dir))
    second = await start_asgard(Orchestrator([second_cluster]), data_dir=data_dir)  # same database
    caller = Caller(second.client, caller.user, caller.key)
    deadline = time.monotonic() + 60
    while True:
        job = (await caller.json("GET", f"/clusters/local/jobs/{job_id}"))["job"]
        if job["status"]["state"] == "failed":
            break
        assert time.monotonic() < deadline, job
        await asyncio.sleep(0.3)
    assert job["status"]["message"] == "killed after its timeout of 4 s"
    output = await caller.get(f"/clusters/local/jobs/{job_id}/output")
    assert output.status == 200
    with zipfile.ZipFile(io.BytesIO(await output.read())) as archive:
        assert archive.read("partial.txt") == b"partial\n"
    await second_cluster.close()


async def test_finished_jobs_go_after_their_retention(
    start_asgard: StartAsgard, engine: DockerDaemon, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    config = DockerClusterConfig(name="local", url=engine.url, job_retention_s=2)
    cluster = await build(config, backend_context(data_dir))
    # The engine's retention removes the container and files; Asgard's removes the record.
    asgard = await start_asgard(
        Orchestrator([cluster]), data_dir=data_dir, job_retention_s=2, reconcile_s=0.5
    )
    account = await asgard.account("dev")
    caller = await asgard.caller("dev@example.com", roles={account.id: Role.OPERATOR})
    created = await caller.json(
        "POST",
        "/jobs",
        status=201,
        json={
            "cluster": "local",
            "name": "quick",
            "image": TEST_IMAGE,
            "command": ["sh", "-c", "echo done > /output/x"],
        },
    )
    job_id = created["job"]["id"]
    store = data_dir / "artifacts" / "local" / "dev" / job_id
    deadline = time.monotonic() + 30
    seen_finished = False
    while True:
        response = await caller.get(f"/clusters/local/jobs/{job_id}")
        if response.status == 404:
            break
        seen_finished = (
            seen_finished or (await response.json())["job"]["status"]["state"] == "succeeded"
        )
        assert time.monotonic() < deadline, "the finished job was never removed"
        await asyncio.sleep(0.3)
    assert seen_finished, "it finished and was kept for a while before going"
    assert engine.cli("ps", "-aq", "--filter", f"label=asgard.job={job_id}").split() == []
    assert not store.exists()
    await cluster.close()
