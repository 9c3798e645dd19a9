"""What the host's processes are kept from: Asgard's environment always; with isolation,
the host's files (read-only), the state folder and Asgard's data (hidden); and, with
``run_as``, Asgard's user."""

from __future__ import annotations

import asyncio
import io
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

import pytest
from asgard_local.commands import DEFAULT_PATH
from asgard_local.isolation import probe
from local_support import DEV, Running, eventually, lines, processes_under, running_cluster

from asgard.backends.contract import AppsBackend, JobsBackend
from asgard.errors import InvalidValue
from asgard.models import AppSpec, Job, JobSpec

SECRET = "asgard-signing-key-never-to-be-seen"
ISOLATED = asyncio.run(probe(None, [])).available
needs_isolation = pytest.mark.skipif(not ISOLATED, reason="this host cannot isolate jobs")
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="run_as needs Asgard to run as root")


def unzip(data: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {n: archive.read(n).decode() for n in archive.namelist() if not n.endswith("/")}


async def ended(running: Running, job_id: str) -> Job:
    async def finished() -> bool:
        return (await running.call(DEV, JobsBackend.get_job, job_id)).status.finished

    await eventually(finished, f"job {job_id} ended")
    return await running.call(DEV, JobsBackend.get_job, job_id)


async def app_said(running: Running, app_id: str, expected: str) -> list[str]:
    said: list[str] = []

    async def wrote() -> bool:
        stream = await running.call(DEV, AppsBackend.app_logs, app_id, tail=200, follow=False)
        said[:] = lines([c async for c in stream])
        return expected in said

    await eventually(wrote, f"{app_id} wrote {expected!r}")
    return said


async def test_processes_never_see_asgards_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASGARD_SECRET_KEY", SECRET)
    command = ["sh", "-c", "env; echo end; exec sleep 600"]
    async with running_cluster(tmp_path) as running:
        spec = AppSpec(cluster="local", id="env", image="host", cmd=command, env={"MODE": "x"})
        await running.call(DEV, AppsBackend.create_app, spec)
        said = await app_said(running, "env", "end")
        job = JobSpec(cluster="local", name="env", image="host", command=["env"], env={"A": "b"})
        created = await running.call(DEV, JobsBackend.create_job, job, None)
        await ended(running, created.id)
        stream = await running.call(DEV, JobsBackend.job_logs, created.id, follow=False)
        job_said = lines([c async for c in stream])
    for seen in (said, job_said):
        assert not [line for line in seen if SECRET in line or "ASGARD_" in line]
        assert f"PATH={DEFAULT_PATH}" in seen
        assert "LANG=C.UTF-8" in seen
    assert "MODE=x" in said
    assert "A=b" in job_said
    [home] = [line for line in said if line.startswith("HOME=")]
    assert home.startswith(f"HOME={running.state_dir}/apps/dev/env/instances/")


@needs_isolation
async def test_a_job_sees_the_host_read_only_and_no_state(tmp_path: Path) -> None:
    """The state folder lives outside /tmp here, where the job would see it unhidden."""
    base = Path(tempfile.mkdtemp(prefix="asgard-local-test-", dir="/var/tmp"))
    (base / "data").mkdir()  # Asgard's data folder (its database, its files)
    seen = "ls -A {0} 2>/dev/null | wc -l"
    script = "; ".join(
        [
            "touch /usr/asgard-was-here 2>/dev/null && echo yes > /output/usr",
            seen.format(base / "state") + " > /output/state",
            seen.format(base / "data") + " > /output/data",
            "ls -A /tmp | wc -l > /output/tmp",
            "echo fine > /tmp/mine && cat /tmp/mine > /output/own-tmp",
            "cat /input/given > /output/given",
        ]
    )
    given = io.BytesIO()
    with zipfile.ZipFile(given, "w") as archive:
        archive.writestr("given", "from the input\n")
        archive.writestr("../escape", "never unpacked outside /input\n")
    try:
        async with running_cluster(base) as running:
            job = JobSpec(cluster="local", name="look", image="host", command=["sh", "-c", script])
            created = await running.call(DEV, JobsBackend.create_job, job, given.getvalue())
            assert (await ended(running, created.id)).status.state == "succeeded"
            output = unzip(await running.call(DEV, JobsBackend.job_output, created.id))
        assert processes_under(base) == []
        escaped = await asyncio.to_thread(lambda: list(base.rglob("escape")))
    finally:
        await asyncio.to_thread(shutil.rmtree, base)
    assert escaped == []
    assert "usr" not in output, "the job could write to the host's /usr"
    assert output == {
        "state": "0\n",
        "data": "0\n",
        "tmp": "0\n",
        "own-tmp": "fine\n",
        "given": "from the input\n",
    }


@needs_root
@pytest.mark.parametrize("isolate_jobs", [True, False], ids=["isolated", "plain"])
async def test_run_as_runs_every_process_as_that_user(tmp_path: Path, isolate_jobs: bool) -> None:
    async with running_cluster(tmp_path, run_as="nobody", isolate_jobs=isolate_jobs) as running:
        spec = AppSpec(
            cluster="local",
            id="who",
            image="host",
            cmd=["sh", "-c", "echo uid=$(id -u); touch made-here && echo wrote; exec sleep 600"],
        )
        await running.call(DEV, AppsBackend.create_app, spec)
        said = await app_said(running, "who", "wrote")
        job = JobSpec(cluster="local", name="who", image="host", command=["id", "-u"])
        created = await running.call(DEV, JobsBackend.create_job, job, None)
        assert (await ended(running, created.id)).status.state == "succeeded"
        stream = await running.call(DEV, JobsBackend.job_logs, created.id, follow=False)
        job_said = lines([c async for c in stream])
    assert "uid=65534" in said
    assert job_said == ["65534"]


@needs_isolation
async def test_an_input_that_cannot_be_unpacked_is_refused(tmp_path: Path) -> None:
    clash = io.BytesIO()
    with zipfile.ZipFile(clash, "w") as archive:
        archive.writestr("a", "a file")
        archive.writestr("a/b", "where the file is")
    async with running_cluster(tmp_path) as running:
        job = JobSpec(cluster="local", name="clash", image="host", command=["true"])
        with pytest.raises(InvalidValue) as refused:
            await running.call(DEV, JobsBackend.create_job, job, clash.getvalue())
        assert refused.value.details[0].field == "input"
        assert await running.call(DEV, JobsBackend.list_jobs) == []
