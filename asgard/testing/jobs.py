"""One-time jobs: their files, exit codes, logs, settling and removal, and the refusal of
what a kind cannot do for them (files, logs, volumes, timeouts). What every backend that
runs jobs must get right."""

from __future__ import annotations

import asyncio
import time

import pytest

from asgard.backends.contract import JobsBackend, WorkspaceMount
from asgard.errors import InvalidValue, NotFound, NotSupported
from asgard.models import Job, JobSpec, WorkflowVolume
from asgard.testing.common import DEV, OPS, SETTLE_S
from asgard.testing.coverage import exercises
from asgard.testing.files import a_zip, unzip
from asgard.testing.harness import Harness
from asgard.testing.talk import JOB_LATER, JOB_TALK, job_script, text_of

__all__ = [
    "test_a_deleted_job_is_gone",
    "test_a_failed_job_reports_its_exit_code",
    "test_a_followed_job_log_ends_with_the_job",
    "test_a_job_runs_and_leaves_its_output",
    "test_a_job_without_files_says_so",
    "test_a_jobs_log_is_what_it_printed",
    "test_a_timeout_is_refused_where_jobs_cannot_be_stopped_at_one",
    "test_a_workflow_volume_carries_files_from_stage_to_stage",
    "test_another_account_cannot_see_or_touch_a_job",
    "test_job_logs_are_refused_where_the_kind_keeps_none",
    "test_settling_an_ended_job_changes_nothing",
    "test_there_is_no_output_before_the_end",
    "test_workflow_volumes_are_refused_when_the_kind_has_none",
]


def spec(harness: Harness, name: str, script: str, **extra: object) -> JobSpec:
    return JobSpec.model_validate(
        {
            "cluster": harness.cluster,
            "name": name,
            "image": harness.image,
            "command": ["sh", "-c", script],
            **extra,
        }
    )


async def ended(harness: Harness, job_id: str, exit_code: int, output: dict[str, bytes]) -> Job:
    deadline = time.monotonic() + SETTLE_S
    while time.monotonic() < deadline:
        await harness.settle_job("dev", job_id, exit_code=exit_code, output=output)
        job = await harness.call(DEV, JobsBackend.get_job, job_id)
        if job.status.finished:
            return job
        await asyncio.sleep(0.3)
    raise AssertionError(f"job {job_id} did not end")


@exercises(JobsBackend.create_job, JobsBackend.list_jobs, JobsBackend.job_output)
@pytest.mark.cannot("job_files")
async def test_a_job_without_files_says_so(harness: Harness) -> None:
    """Kinds that cannot carry files refuse an input zip before creating anything, and say
    that output is unsupported (501) rather than missing (404)."""
    with pytest.raises(NotSupported):
        await harness.call(
            DEV, JobsBackend.create_job, spec(harness, "make", "true"), a_zip({"n.txt": b"42"})
        )
    assert (await harness.listing(DEV, JobsBackend.list_jobs)).items == []
    created = await harness.call(DEV, JobsBackend.create_job, spec(harness, "make", "true"), None)
    with pytest.raises(NotSupported):
        await harness.call(DEV, JobsBackend.job_output, created.id)


@exercises(
    JobsBackend.create_job, JobsBackend.get_job, JobsBackend.job_output, JobsBackend.list_jobs
)
@pytest.mark.can("job_files")
async def test_a_job_runs_and_leaves_its_output(harness: Harness) -> None:
    files = {"result.txt": b"from the input: 42\n"}
    created = await harness.call(
        DEV,
        JobsBackend.create_job,
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
            output = await harness.call(DEV, JobsBackend.job_output, created.id)
            break
        except NotFound:
            assert time.monotonic() < deadline, "the output never came"
            await asyncio.sleep(0.3)
    assert unzip(output) == files
    assert created.id in [j.id for j in (await harness.listing(DEV, JobsBackend.list_jobs)).items]


@exercises(JobsBackend.create_job, JobsBackend.get_job)
async def test_a_failed_job_reports_its_exit_code(harness: Harness) -> None:
    created = await harness.call(DEV, JobsBackend.create_job, spec(harness, "fail", "exit 3"), None)
    job = await ended(harness, created.id, 3, {})
    assert job.status.state == "failed"
    assert job.status.failed >= 1
    assert job.status.message
    if harness.capabilities.job_exit_codes:
        assert job.status.exit_code == 3
        assert "3" in job.status.message


@exercises(JobsBackend.create_job, JobsBackend.job_output)
@pytest.mark.can("job_files")
async def test_there_is_no_output_before_the_end(harness: Harness) -> None:
    created = await harness.call(
        DEV, JobsBackend.create_job, spec(harness, "slow", "sleep 600"), None
    )
    with pytest.raises(NotFound):
        await harness.call(DEV, JobsBackend.job_output, created.id)


@exercises(
    JobsBackend.create_job, JobsBackend.delete_job, JobsBackend.get_job, JobsBackend.list_jobs
)
async def test_a_deleted_job_is_gone(harness: Harness) -> None:
    created = await harness.call(
        DEV, JobsBackend.create_job, spec(harness, "gone", "sleep 600"), None
    )
    await harness.call(DEV, JobsBackend.delete_job, created.id)
    with pytest.raises(NotFound):
        await harness.call(DEV, JobsBackend.get_job, created.id)
    assert created.id not in [
        j.id for j in (await harness.listing(DEV, JobsBackend.list_jobs)).items
    ]
    with pytest.raises(NotFound):
        await harness.call(DEV, JobsBackend.delete_job, created.id)


@exercises(
    JobsBackend.create_job,
    JobsBackend.list_jobs,
    JobsBackend.get_job,
    JobsBackend.delete_job,
    JobsBackend.job_output,
)
async def test_another_account_cannot_see_or_touch_a_job(harness: Harness) -> None:
    created = await harness.call(
        DEV, JobsBackend.create_job, spec(harness, "mine", "sleep 600"), None
    )
    assert (await harness.listing(OPS, JobsBackend.list_jobs)).items == []
    with pytest.raises(NotFound):
        await harness.call(OPS, JobsBackend.get_job, created.id)
    with pytest.raises(NotFound):
        await harness.call(OPS, JobsBackend.delete_job, created.id)
    with pytest.raises(NotFound):
        await harness.call(OPS, JobsBackend.job_output, created.id)
    assert (await harness.call(DEV, JobsBackend.get_job, created.id)).id == created.id


async def output_of(harness: Harness, job_id: str) -> dict[str, bytes]:
    deadline = time.monotonic() + SETTLE_S
    while True:
        try:
            return unzip(await harness.call(DEV, JobsBackend.job_output, job_id))
        except NotFound:
            assert time.monotonic() < deadline, "the output never came"
            await asyncio.sleep(0.3)


@exercises(
    JobsBackend.create_workspace,
    JobsBackend.create_job,
    JobsBackend.job_output,
    JobsBackend.delete_job,
    JobsBackend.delete_workspace,
)
@pytest.mark.can("workflow_volumes")
async def test_a_workflow_volume_carries_files_from_stage_to_stage(harness: Harness) -> None:
    volume = WorkflowVolume()
    await harness.call(DEV, JobsBackend.create_workspace, "wf-kit", volume)
    await harness.call(DEV, JobsBackend.create_workspace, "wf-kit", volume)  # made already
    first = await harness.call(
        DEV,
        JobsBackend.create_job,
        spec(harness, "first", "echo 42 > /output/n.txt"),
        None,
        WorkspaceMount(workspace="wf-kit", input_dir=None, output_dir="stage-0"),
    )
    assert (await ended(harness, first.id, 0, {"n.txt": b"42\n"})).status.state == "succeeded"
    assert await output_of(harness, first.id) == {"n.txt": b"42\n"}

    second = await harness.call(
        DEV,
        JobsBackend.create_job,
        spec(harness, "second", "cat /input/n.txt > /output/copy.txt"),
        None,
        WorkspaceMount(workspace="wf-kit", input_dir="stage-0", output_dir="stage-1"),
    )
    assert (await ended(harness, second.id, 0, {"copy.txt": b"42\n"})).status.state == "succeeded"
    assert await output_of(harness, second.id) == {"copy.txt": b"42\n"}

    for job in (first, second):
        await harness.call(DEV, JobsBackend.delete_job, job.id)
    await harness.call(DEV, JobsBackend.delete_workspace, "wf-kit")
    await harness.call(DEV, JobsBackend.delete_workspace, "wf-kit")  # gone already
    assert await harness.leftovers("dev", "wf-kit") == [], "the volume went with its jobs"


@exercises(JobsBackend.create_job)
@pytest.mark.cannot("workflow_volumes")
async def test_workflow_volumes_are_refused_when_the_kind_has_none(harness: Harness) -> None:
    with pytest.raises(NotSupported):
        await harness.call(DEV, JobsBackend.create_workspace, "wf-kit", WorkflowVolume())


def talking_job(harness: Harness, name: str) -> JobSpec:
    return spec(harness, name, job_script())


@pytest.mark.can("job_logs")
@exercises(JobsBackend.create_job, JobsBackend.get_job, JobsBackend.job_logs)
async def test_a_jobs_log_is_what_it_printed(harness: Harness) -> None:
    created = await harness.call(DEV, JobsBackend.create_job, talking_job(harness, "talk"), None)
    await harness.job_prints("dev", created.id, [*JOB_TALK, *JOB_LATER])
    await ended(harness, created.id, 0, {})
    text = await text_of(await harness.call(DEV, JobsBackend.job_logs, created.id, follow=False))
    for _, printed in (*JOB_TALK, *JOB_LATER):
        assert text.count(printed) == 1, f"{printed!r} once in {text!r}"
    assert text.index("job-out-1") < text.index("job-out-2")
    with pytest.raises(NotFound):
        await harness.call(OPS, JobsBackend.job_logs, created.id, follow=False)
    with pytest.raises(NotFound):
        await harness.call(DEV, JobsBackend.job_logs, "nothing-0000", follow=False)


@pytest.mark.can("job_logs")
@exercises(JobsBackend.create_job, JobsBackend.get_job, JobsBackend.job_logs)
async def test_a_followed_job_log_ends_with_the_job(harness: Harness) -> None:
    """Followed from while the job runs: what it prints later comes, and the log ends when
    the job does."""
    created = await harness.call(DEV, JobsBackend.create_job, talking_job(harness, "talk"), None)
    await harness.job_prints("dev", created.id, JOB_TALK)

    async def printing() -> bool:
        text = await text_of(
            await harness.call(DEV, JobsBackend.job_logs, created.id, follow=False)
        )
        return "job-out-1" in text

    deadline = time.monotonic() + SETTLE_S
    while not await printing():
        assert time.monotonic() < deadline, "the job never printed"
        await asyncio.sleep(0.3)
    stream = await harness.call(DEV, JobsBackend.job_logs, created.id, follow=True)
    await harness.job_prints("dev", created.id, JOB_LATER)
    ending = asyncio.create_task(ended(harness, created.id, 0, {}))
    try:
        followed = await text_of(stream)
    finally:
        job = await ending
    assert "job-out-1" in followed
    assert "job-out-2" in followed, "what it printed after the log was opened"
    assert job.status.state == "succeeded"


@pytest.mark.cannot("job_logs")
@exercises(JobsBackend.create_job, JobsBackend.job_logs)
async def test_job_logs_are_refused_where_the_kind_keeps_none(harness: Harness) -> None:
    """501 for the account's own job; another account's, or an unknown one, is still not
    found (a refusal never says that a job exists)."""
    created = await harness.call(DEV, JobsBackend.create_job, spec(harness, "quiet", "true"), None)
    with pytest.raises(NotSupported):
        await harness.call(DEV, JobsBackend.job_logs, created.id, follow=False)
    with pytest.raises(NotFound):
        await harness.call(OPS, JobsBackend.job_logs, created.id, follow=False)
    with pytest.raises(NotFound):
        await harness.call(DEV, JobsBackend.job_logs, "nothing-0000", follow=False)


@exercises(
    JobsBackend.create_job, JobsBackend.get_job, JobsBackend.settle_job, JobsBackend.job_output
)
async def test_settling_an_ended_job_changes_nothing(harness: Harness) -> None:
    """What the reconciler calls for a job it sees ended, maybe again and again."""
    files = {"n.txt": b"42\n"}
    script = "echo 42 > /output/n.txt" if harness.capabilities.job_files else "true"
    created = await harness.call(DEV, JobsBackend.create_job, spec(harness, "settle", script), None)
    job = await ended(harness, created.id, 0, files)
    for _ in range(2):
        await harness.call(DEV, JobsBackend.settle_job, created.id)
    again = await harness.call(DEV, JobsBackend.get_job, created.id)
    assert again.status.state == job.status.state == "succeeded"
    if harness.capabilities.job_files:
        assert await output_of(harness, created.id) == files


@pytest.mark.cannot("job_timeouts")
@exercises(JobsBackend.create_job, JobsBackend.list_jobs)
async def test_a_timeout_is_refused_where_jobs_cannot_be_stopped_at_one(harness: Harness) -> None:
    with pytest.raises(InvalidValue) as refused:
        await harness.call(
            DEV, JobsBackend.create_job, spec(harness, "late", "sleep 600", timeout_s=5), None
        )
    assert refused.value.details[0].field == "timeout_s"
    assert (await harness.listing(DEV, JobsBackend.list_jobs)).items == [], "nothing was started"
