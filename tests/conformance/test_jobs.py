"""One-time jobs: what every backend that runs jobs must get right."""

from __future__ import annotations

import asyncio
import io
import time
import zipfile

import pytest

from asgard.errors import NotFound, NotSupported
from asgard.models import Account, Job, JobSpec
from tests.conformance.harness import Harness
from tests.support.dockerd import TEST_IMAGE

DEV = Account(id=1, name="dev", namespace="dev")
OPS = Account(id=2, name="ops", namespace="ops")
SETTLE_S = 60


def a_zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {n: archive.read(n) for n in archive.namelist() if not n.endswith("/")}


def spec(harness: Harness, name: str, script: str, **extra: object) -> JobSpec:
    return JobSpec.model_validate(
        {
            "cluster": harness.cluster,
            "name": name,
            "image": TEST_IMAGE,
            "command": ["sh", "-c", script],
            **extra,
        }
    )


async def ended(harness: Harness, job_id: str, exit_code: int, output: dict[str, bytes]) -> Job:
    deadline = time.monotonic() + SETTLE_S
    while time.monotonic() < deadline:
        await harness.settle_job("dev", job_id, exit_code=exit_code, output=output)
        job = await harness.orchestrator.get_job(DEV, harness.cluster, job_id)
        if job.status.finished:
            return job
        await asyncio.sleep(0.3)
    raise AssertionError(f"job {job_id} did not end")


@pytest.mark.cannot("jobs_take_files")
async def test_a_job_without_files_says_so(harness: Harness) -> None:
    """Kinds that cannot carry files refuse an input zip before creating anything, and say
    that output is unsupported (501) rather than missing (404)."""
    with pytest.raises(NotSupported):
        await harness.orchestrator.create_job(
            DEV, spec(harness, "make", "true"), a_zip({"n.txt": b"42"})
        )
    assert (await harness.orchestrator.list_jobs(DEV)).items == []
    created = await harness.orchestrator.create_job(DEV, spec(harness, "make", "true"), None)
    with pytest.raises(NotSupported):
        await harness.orchestrator.job_output(DEV, harness.cluster, created.id)


@pytest.mark.can("jobs_take_files")
async def test_a_job_runs_and_leaves_its_output(harness: Harness) -> None:
    files = {"result.txt": b"from the input: 42\n"}
    created = await harness.orchestrator.create_job(
        DEV,
        spec(
            harness,
            "make",
            "echo from the input: $(cat /input/n.txt) > /output/result.txt",
            labels={"team": "x"},
        ),
        a_zip({"n.txt": b"42"}),
    )
    assert created.id.startswith("make-")
    assert created.cluster == harness.cluster
    assert created.name == "make"
    assert created.labels == {"team": "x"}
    assert created.status.state in ("pending", "running", "succeeded")

    job = await ended(harness, created.id, 0, files)
    assert job.status.state == "succeeded"
    assert job.status.succeeded == 1
    assert job.status.exit_code == 0
    assert job.status.finished_at is not None

    deadline = time.monotonic() + SETTLE_S
    while True:
        try:
            output = await harness.orchestrator.job_output(DEV, harness.cluster, created.id)
            break
        except NotFound:
            assert time.monotonic() < deadline, "the output never came"
            await asyncio.sleep(0.3)
    assert unzip(output) == files
    assert created.id in [j.id for j in (await harness.orchestrator.list_jobs(DEV)).items]


async def test_a_failed_job_reports_its_exit_code(harness: Harness) -> None:
    created = await harness.orchestrator.create_job(DEV, spec(harness, "fail", "exit 3"), None)
    job = await ended(harness, created.id, 3, {})
    assert job.status.state == "failed"
    assert job.status.failed >= 1
    assert job.status.message
    if harness.reports_exit_codes:
        assert job.status.exit_code == 3
        assert "3" in job.status.message


@pytest.mark.can("jobs_take_files")
async def test_there_is_no_output_before_the_end(harness: Harness) -> None:
    created = await harness.orchestrator.create_job(DEV, spec(harness, "slow", "sleep 600"), None)
    with pytest.raises(NotFound):
        await harness.orchestrator.job_output(DEV, harness.cluster, created.id)


async def test_a_deleted_job_is_gone(harness: Harness) -> None:
    created = await harness.orchestrator.create_job(DEV, spec(harness, "gone", "sleep 600"), None)
    await harness.orchestrator.delete_job(DEV, harness.cluster, created.id)
    with pytest.raises(NotFound):
        await harness.orchestrator.get_job(DEV, harness.cluster, created.id)
    assert created.id not in [j.id for j in (await harness.orchestrator.list_jobs(DEV)).items]
    with pytest.raises(NotFound):
        await harness.orchestrator.delete_job(DEV, harness.cluster, created.id)


async def test_another_account_cannot_see_or_touch_a_job(harness: Harness) -> None:
    created = await harness.orchestrator.create_job(DEV, spec(harness, "mine", "sleep 600"), None)
    assert (await harness.orchestrator.list_jobs(OPS)).items == []
    with pytest.raises(NotFound):
        await harness.orchestrator.get_job(OPS, harness.cluster, created.id)
    with pytest.raises(NotFound):
        await harness.orchestrator.delete_job(OPS, harness.cluster, created.id)
    with pytest.raises(NotFound):
        await harness.orchestrator.job_output(OPS, harness.cluster, created.id)
    assert (await harness.orchestrator.get_job(DEV, harness.cluster, created.id)).id == created.id
