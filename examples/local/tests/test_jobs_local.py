"""Jobs on the host: stopped at their timeout, retried after a non-zero exit, their logs
followed to the end; and schedules of programs the host lacks refused when saved."""

from __future__ import annotations

from pathlib import Path

import pytest
from asgard_local.scheduled_jobs import LocalScheduledJobsBackend
from local_support import DEV, Running, eventually, lines, processes_under, running_cluster

from asgard.backends.contract import JobsBackend
from asgard.errors import InvalidValue
from asgard.models import Job, JobSpec, Schedule, ScheduledJobSpec


def job(script: str, **extra: object) -> JobSpec:
    return JobSpec.model_validate(
        {"cluster": "local", "name": "work", "image": "host", "command": ["sh", "-c", script]}
        | extra
    )


async def ended(running: Running, job_id: str) -> Job:
    found: list[Job] = []

    async def finished() -> bool:
        found[:] = [await running.call(DEV, JobsBackend.get_job, job_id)]
        return found[0].status.finished

    await eventually(finished, f"job {job_id} ended")
    return found[0]


@pytest.mark.parametrize("isolate_jobs", [True, False], ids=["isolated", "plain"])
async def test_a_job_is_killed_at_its_timeout(tmp_path: Path, isolate_jobs: bool) -> None:
    async with running_cluster(tmp_path, isolate_jobs=isolate_jobs) as running:
        created = await running.call(
            DEV, JobsBackend.create_job, job("sleep 600", timeout_s=1), None
        )
        done = await ended(running, created.id)
        assert done.status.state == "failed"
        assert done.status.message == "killed after its timeout of 1 s"
        assert done.status.finished_at is not None
        assert done.status.started_at is not None
        assert (done.status.finished_at - done.status.started_at).total_seconds() < 5
        assert processes_under(running.state_dir) == []


async def test_a_failing_job_is_retried_then_fails(tmp_path: Path) -> None:
    async with running_cluster(tmp_path) as running:
        created = await running.call(DEV, JobsBackend.create_job, job("exit 4", retries=2), None)
        done = await ended(running, created.id)
    assert done.status.state == "failed"
    assert done.status.failed == 3
    assert done.status.exit_code == 4
    assert done.status.message == "exited with code 4 after 2 retries"


async def test_a_retry_that_succeeds_makes_the_job_succeed(tmp_path: Path) -> None:
    """The home folder of a plain job stays between its attempts: it counts them."""
    script = 'n=$(cat tries 2>/dev/null || echo 0); echo $((n + 1)) > tries; [ "$n" -ge 1 ]'
    async with running_cluster(tmp_path, isolate_jobs=False) as running:
        created = await running.call(DEV, JobsBackend.create_job, job(script, retries=3), None)
        done = await ended(running, created.id)
    assert (done.status.state, done.status.succeeded, done.status.failed) == ("succeeded", 1, 1)
    assert done.status.message == "exited with code 0 after 1 retry"


async def test_logs_are_followed_until_the_job_ends(tmp_path: Path) -> None:
    async with running_cluster(tmp_path) as running:
        created = await running.call(
            DEV, JobsBackend.create_job, job("for i in 1 2 3; do echo $i; sleep 0.2; done"), None
        )
        stream = await running.call(DEV, JobsBackend.job_logs, created.id, follow=True)
        assert lines([c async for c in stream]) == ["1", "2", "3"]
        assert (await running.call(DEV, JobsBackend.get_job, created.id)).status.finished


def schedule(command: list[str]) -> ScheduledJobSpec:
    return ScheduledJobSpec(
        cluster="local",
        name="nightly",
        image="host",
        command=command,
        schedule=Schedule(value="0 3 * * *"),
    )


async def test_a_schedule_of_a_program_the_host_lacks_is_refused() -> None:
    kept = LocalScheduledJobsBackend("local")
    with pytest.raises(InvalidValue) as refused:
        await kept.check(DEV, schedule(["no-such-program-here", "--now"]))
    assert refused.value.details[0].field == "command"
    assert "no-such-program-here" in refused.value.msg
    await kept.check(DEV, schedule(["true"]))
    await kept.check(DEV, schedule(["/bin/sh", "-c", "true"]))
