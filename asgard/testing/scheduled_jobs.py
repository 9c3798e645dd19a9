"""Scheduled jobs: made, read, listed, changed and removed, as a cluster's own scheduler
keeps them (``own_scheduler``: CronJobs, Chronos) or as Asgard keeps them for a kind
without one, checking each through the kind first (``KeptSchedules.check``). What every
kind must get right either way: the kit attaches Asgard's keeper, over a database of its
own, where the kind has no scheduler, as a running server does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from asgard.backends.contract import ScheduledJobsBackend
from asgard.errors import Conflict, InvalidValue, NotFound
from asgard.models import Account, Schedule, ScheduledJobSpec
from asgard.scheduling.backend import AsgardScheduledJobsBackend
from asgard.testing.common import DEV, OPS, database
from asgard.testing.coverage import exercises
from asgard.testing.harness import Harness

__all__ = [
    "test_a_schedule_of_an_unknown_image_is_refused_when_saved",
    "test_a_scheduled_job_is_made_read_changed_and_removed",
    "test_a_taken_name_is_a_conflict_and_unknown_ones_are_not_found",
]


def nightly(harness: Harness, name: str = "nightly", **changes: object) -> ScheduledJobSpec:
    spec = ScheduledJobSpec(
        cluster=harness.cluster,
        name=name,
        image=harness.image,
        command=["sh", "-c", "echo nightly"],
        env={"MODE": "test"},
        schedule=Schedule(value=harness.schedule),
        description="the kit's",
    )
    return spec.model_copy(update=changes)


@asynccontextmanager
async def scheduling(harness: Harness, folder: Path, *accounts: Account) -> AsyncIterator[None]:
    """Scheduled jobs as a running server has them: where the kind has no scheduler,
    Asgard's keeper over a database in ``folder`` that knows the ``accounts``."""
    if harness.capabilities.own_scheduler:
        yield
        return
    async with database(folder, *accounts) as db:
        harness.orchestrator.schedule_with(
            lambda name, kind: AsgardScheduledJobsBackend(name, kind, db)
        )
        yield


async def names(harness: Harness, account: Account = DEV) -> list[str]:
    listing = await harness.listing(account, ScheduledJobsBackend.list_scheduled_jobs)
    assert listing.errors == []
    return sorted(j.id for j in listing.items)


@exercises(
    ScheduledJobsBackend.create_scheduled_job,
    ScheduledJobsBackend.get_scheduled_job,
    ScheduledJobsBackend.list_scheduled_jobs,
    ScheduledJobsBackend.update_scheduled_job,
    ScheduledJobsBackend.delete_scheduled_job,
)
async def test_a_scheduled_job_is_made_read_changed_and_removed(
    harness: Harness, tmp_path: Path
) -> None:
    async with scheduling(harness, tmp_path, DEV, OPS):
        there = await names(harness)  # what the cluster held before, if anything
        theirs = await names(harness, OPS)
        made = await harness.call(DEV, ScheduledJobsBackend.create_scheduled_job, nightly(harness))
        assert made.id == made.name == "nightly"
        assert made.cluster == harness.cluster
        assert made.schedule.value == harness.schedule
        assert made.enabled
        assert made.image == harness.image
        assert made.env == {"MODE": "test"}
        assert await names(harness) == sorted([*there, "nightly"])
        assert await names(harness, OPS) == theirs, "another account's are not listed"
        assert await harness.call(DEV, ScheduledJobsBackend.get_scheduled_job, "nightly") == made

        changed = nightly(harness, enabled=False, env={"MODE": "prod"}, description="off")
        updated = await harness.call(
            DEV, ScheduledJobsBackend.update_scheduled_job, "nightly", changed
        )
        assert (updated.enabled, updated.env, updated.description) == (
            False,
            {"MODE": "prod"},
            "off",
        )
        kept = await harness.call(DEV, ScheduledJobsBackend.get_scheduled_job, "nightly")
        assert (kept.enabled, kept.env, kept.description) == (False, {"MODE": "prod"}, "off")

        await harness.call(DEV, ScheduledJobsBackend.delete_scheduled_job, "nightly")
        assert await names(harness) == there
        with pytest.raises(NotFound):
            await harness.call(DEV, ScheduledJobsBackend.get_scheduled_job, "nightly")


@exercises(
    ScheduledJobsBackend.create_scheduled_job,
    ScheduledJobsBackend.get_scheduled_job,
    ScheduledJobsBackend.update_scheduled_job,
    ScheduledJobsBackend.delete_scheduled_job,
)
async def test_a_taken_name_is_a_conflict_and_unknown_ones_are_not_found(
    harness: Harness, tmp_path: Path
) -> None:
    async with scheduling(harness, tmp_path, DEV, OPS):
        await harness.call(DEV, ScheduledJobsBackend.create_scheduled_job, nightly(harness))
        with pytest.raises(Conflict):
            await harness.call(
                DEV, ScheduledJobsBackend.create_scheduled_job, nightly(harness, enabled=False)
            )
        assert (
            await harness.call(DEV, ScheduledJobsBackend.get_scheduled_job, "nightly")
        ).enabled, "unchanged"
        other = await harness.call(OPS, ScheduledJobsBackend.create_scheduled_job, nightly(harness))
        assert other.id == "nightly", "the same name in another namespace is another job"
        with pytest.raises(NotFound):
            await harness.call(DEV, ScheduledJobsBackend.get_scheduled_job, "weekly")
        with pytest.raises(NotFound):
            await harness.call(
                DEV,
                ScheduledJobsBackend.update_scheduled_job,
                "weekly",
                nightly(harness, name="weekly"),
            )
        with pytest.raises(NotFound):
            await harness.call(DEV, ScheduledJobsBackend.delete_scheduled_job, "weekly")
        for account in (DEV, OPS):
            await harness.call(account, ScheduledJobsBackend.delete_scheduled_job, "nightly")


@pytest.mark.can("checks_images")
@exercises(ScheduledJobsBackend.create_scheduled_job, ScheduledJobsBackend.list_scheduled_jobs)
async def test_a_schedule_of_an_unknown_image_is_refused_when_saved(
    harness: Harness, tmp_path: Path
) -> None:
    """Now, rather than as a run that fails at three in the morning."""
    async with scheduling(harness, tmp_path, DEV, OPS):
        there = await names(harness)
        with pytest.raises(InvalidValue):
            await harness.call(
                DEV,
                ScheduledJobsBackend.create_scheduled_job,
                nightly(harness, image="asgard-test/no-such-image:1"),
            )
        assert await names(harness) == there, "nothing kept"
