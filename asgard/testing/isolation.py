"""Tenants cannot reach each other: what every kind must get right, whatever its names.

Two accounts whose namespaces are a prefix of one another (``iso``, ``iso-b``) make
things with names chosen so that joining namespace and name with ``-`` would make the
same name (``iso`` + ``b-api`` and ``iso-b`` + ``api``), and with the same names. Then
each tries everything on the other's: listing, reading, changing, deleting, and ids that
climb (``../iso-b/api``) given straight to the backend, as a route's mistake would. The
other's things must stay unseen and untouched; a climbing id is unknown or invalid.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from asgard.backends.contract import AppsBackend, JobsBackend, ScheduledJobsBackend
from asgard.errors import InvalidValue, NotFound
from asgard.models import (
    Account,
    AppPatch,
    AppSpec,
    AppVersion,
    JobSpec,
    ResourceLimits,
    Schedule,
    ScheduledJobSpec,
    StatsWindow,
)
from asgard.testing.common import settle
from asgard.testing.coverage import exercises
from asgard.testing.harness import Harness
from asgard.testing.scheduled_jobs import scheduling

__all__ = [
    "test_a_prefix_namespace_cannot_reach_a_job",
    "test_a_prefix_namespace_cannot_reach_a_scheduled_job",
    "test_a_prefix_namespace_cannot_reach_an_app",
    "test_climbing_ids_reach_nothing",
]

ISO = Account(id=11, name="iso", namespace="iso")
ISO_B = Account(id=12, name="iso-b", namespace="iso-b")
REFUSED = (NotFound, InvalidValue)
"""What a backend may answer for something not the account's: unknown, or not a name."""


def climbing(namespace: str, name: str) -> list[str]:
    """Ids that would reach ``name`` of ``namespace`` through a path, an encoding, or the
    way names were once joined."""
    return [
        f"../{namespace}/{name}",
        f"../../{namespace}/{name}",
        f"..%2F{namespace}%2F{name}",
        f"%2E%2E%2F{namespace}%2F{name}",
        f"/{namespace}/{name}",
        f"{namespace}/{name}",
        f"b/../../{namespace}/{name}",
        f"b-{name}/../../{namespace}/{name}",
        f"..\\{namespace}\\{name}",
        f"{namespace}-{name}",
        f"{namespace}_{name}",
        f"{namespace}__{name}",
    ]


def app(harness: Harness, app_id: str) -> AppSpec:
    return AppSpec(
        cluster=harness.cluster,
        id=app_id,
        image=harness.image,
        args=harness.serve_forever,
        resources=ResourceLimits(cpus=0.1, mem=32),
        instances=1,
    )


async def app_ids(harness: Harness, account: Account) -> list[str]:
    return sorted(a.id for a in (await harness.listing(account, AppsBackend.list_apps)).items)


async def refused_on_app(harness: Harness, account: Account, app_id: str) -> None:
    """Every operation on the app, as ``account``, is refused (those the cluster can do)."""
    with pytest.raises(REFUSED):
        await harness.call(account, AppsBackend.get_app, app_id)
    with pytest.raises(REFUSED):
        await harness.call(account, AppsBackend.list_tasks, app_id)
    with pytest.raises(REFUSED):
        await harness.call(account, AppsBackend.update_app, app_id, AppPatch(instances=3))
    with pytest.raises(REFUSED):
        await harness.call(account, AppsBackend.restart_app, app_id)
    can = harness.capabilities
    if can.app_stats:
        with pytest.raises(REFUSED):
            await harness.call(account, AppsBackend.app_stats, app_id, StatsWindow.ONE_MINUTE)
    if can.app_logs:
        with pytest.raises(REFUSED):
            await harness.call(account, AppsBackend.app_logs, app_id, tail=10, follow=False)
        with pytest.raises(REFUSED):
            await harness.call(
                account, AppsBackend.task_logs, app_id, "x", tail=10, since=None, follow=False
            )
    if can.app_versions:
        with pytest.raises(REFUSED):
            await harness.call(account, AppsBackend.app_versions, app_id)
        with pytest.raises(REFUSED):
            await harness.call(account, AppsBackend.app_version, app_id, "1")
        version = AppVersion(id="1", spec=app(harness, "api"))
        with pytest.raises(REFUSED):
            await harness.call(account, AppsBackend.rollback_app, app_id, version)
    with pytest.raises(REFUSED):
        await harness.call(account, AppsBackend.delete_app, app_id)


async def each_runs_its_own(harness: Harness, apps: dict[str, list[str]]) -> None:
    """Each account lists exactly its apps, each wanted and running once, as created."""
    accounts = {a.namespace: a for a in (ISO, ISO_B)}

    async def check() -> bool:
        for namespace, ids in apps.items():
            account = accounts[namespace]
            if await app_ids(harness, account) != ids:
                return False
            for app_id in ids:
                found = await harness.call(account, AppsBackend.get_app, app_id)
                assert found.instances.desired == 1, f"{namespace}'s {app_id} was scaled"
                assert found.image == harness.image, f"{namespace}'s {app_id} was changed"
                if found.instances.running != 1:
                    return False
        return True

    await settle(harness, check, f"each namespace running its own apps alone: {apps}")


APP_OPERATIONS = (
    AppsBackend.list_apps,
    AppsBackend.get_app,
    AppsBackend.list_tasks,
    AppsBackend.list_all_tasks,
    AppsBackend.create_app,
    AppsBackend.update_app,
    AppsBackend.restart_app,
    AppsBackend.delete_app,
    AppsBackend.app_stats,
    AppsBackend.app_logs,
    AppsBackend.task_logs,
    AppsBackend.app_versions,
    AppsBackend.app_version,
    AppsBackend.rollback_app,
)
"""What the app checks try on the other's apps: those the cluster cannot do, not at all."""


async def task_apps(harness: Harness, account: Account) -> set[str]:
    listing = await harness.listing(account, AppsBackend.list_all_tasks)
    return {t.app_id for t in listing.items}


@pytest.mark.can("app_writes")
@exercises(*APP_OPERATIONS, marked=False)
async def test_a_prefix_namespace_cannot_reach_an_app(harness: Harness) -> None:
    await harness.call(ISO_B, AppsBackend.create_app, app(harness, "api"))
    await harness.call(ISO, AppsBackend.create_app, app(harness, "b-api"))
    await each_runs_its_own(harness, {"iso": ["b-api"], "iso-b": ["api"]})
    assert await task_apps(harness, ISO) == {"b-api"}
    assert await task_apps(harness, ISO_B) == {"api"}

    await refused_on_app(harness, ISO, "api")
    await refused_on_app(harness, ISO_B, "b-api")
    await each_runs_its_own(harness, {"iso": ["b-api"], "iso-b": ["api"]})

    await harness.call(ISO, AppsBackend.create_app, app(harness, "api"))
    await each_runs_its_own(harness, {"iso": ["api", "b-api"], "iso-b": ["api"]})
    await harness.call(ISO, AppsBackend.delete_app, "api")
    await harness.call(ISO, AppsBackend.delete_app, "b-api")
    await each_runs_its_own(harness, {"iso": [], "iso-b": ["api"]})


@pytest.mark.can("app_writes", "jobs")
@exercises(*APP_OPERATIONS, JobsBackend.get_job, JobsBackend.delete_job, marked=False)
async def test_climbing_ids_reach_nothing(harness: Harness) -> None:
    await harness.call(ISO_B, AppsBackend.create_app, app(harness, "api"))
    await each_runs_its_own(harness, {"iso": [], "iso-b": ["api"]})
    for app_id in climbing("iso-b", "api"):
        await refused_on_app(harness, ISO, app_id)
    job = await harness.call(ISO_B, JobsBackend.create_job, job_spec(harness, "run"), None)
    for job_id in climbing("iso-b", job.id):
        with pytest.raises(REFUSED):
            await harness.call(ISO, JobsBackend.get_job, job_id)
        with pytest.raises(REFUSED):
            await harness.call(ISO, JobsBackend.delete_job, job_id)
    await each_runs_its_own(harness, {"iso": [], "iso-b": ["api"]})
    assert (await harness.call(ISO_B, JobsBackend.get_job, job.id)).id == job.id


def job_spec(harness: Harness, name: str) -> JobSpec:
    return JobSpec(
        cluster=harness.cluster,
        name=name,
        image=harness.image,
        command=["sh", "-c", "sleep 600"],
    )


async def job_ids(harness: Harness, account: Account) -> list[str]:
    return sorted(j.id for j in (await harness.listing(account, JobsBackend.list_jobs)).items)


@exercises(
    JobsBackend.create_job,
    JobsBackend.list_jobs,
    JobsBackend.get_job,
    JobsBackend.job_output,
    JobsBackend.job_logs,
    JobsBackend.delete_job,
)
async def test_a_prefix_namespace_cannot_reach_a_job(harness: Harness) -> None:
    theirs = await harness.call(ISO_B, JobsBackend.create_job, job_spec(harness, "run"), None)
    ours = await harness.call(ISO, JobsBackend.create_job, job_spec(harness, "b-run"), None)
    same = await harness.call(ISO, JobsBackend.create_job, job_spec(harness, "run"), None)
    assert await job_ids(harness, ISO) == sorted([ours.id, same.id])
    assert await job_ids(harness, ISO_B) == [theirs.id]

    with pytest.raises(REFUSED):
        await harness.call(ISO, JobsBackend.get_job, theirs.id)
    with pytest.raises(REFUSED):
        await harness.call(ISO, JobsBackend.job_output, theirs.id)
    with pytest.raises(REFUSED):
        await harness.call(ISO, JobsBackend.job_logs, theirs.id, follow=False)
    with pytest.raises(REFUSED):
        await harness.call(ISO, JobsBackend.delete_job, theirs.id)
    with pytest.raises(REFUSED):
        await harness.call(ISO_B, JobsBackend.delete_job, ours.id)

    await harness.call(ISO, JobsBackend.delete_job, same.id)
    await harness.call(ISO, JobsBackend.delete_job, ours.id)
    assert await job_ids(harness, ISO) == []
    assert await job_ids(harness, ISO_B) == [theirs.id]
    assert (await harness.call(ISO_B, JobsBackend.get_job, theirs.id)).name == "run"


def schedule(harness: Harness, name: str) -> ScheduledJobSpec:
    return ScheduledJobSpec(
        cluster=harness.cluster,
        name=name,
        image=harness.image,
        command=["sh", "-c", "true"],
        schedule=Schedule(value=harness.schedule),
    )


async def scheduled_ids(harness: Harness, account: Account) -> list[str]:
    listing = await harness.listing(account, ScheduledJobsBackend.list_scheduled_jobs)
    return sorted(j.id for j in listing.items)


@exercises(
    ScheduledJobsBackend.create_scheduled_job,
    ScheduledJobsBackend.list_scheduled_jobs,
    ScheduledJobsBackend.get_scheduled_job,
    ScheduledJobsBackend.update_scheduled_job,
    ScheduledJobsBackend.delete_scheduled_job,
)
async def test_a_prefix_namespace_cannot_reach_a_scheduled_job(
    harness: Harness, tmp_path: Path
) -> None:
    """On the cluster's own scheduler, or kept by Asgard for the cluster."""
    async with scheduling(harness, tmp_path, ISO, ISO_B):
        await prefix_cannot_reach_a_scheduled_job(harness)


async def prefix_cannot_reach_a_scheduled_job(harness: Harness) -> None:
    create = ScheduledJobsBackend.create_scheduled_job
    await harness.call(ISO_B, create, schedule(harness, "nightly"))
    await harness.call(ISO, create, schedule(harness, "b-nightly"))
    assert await scheduled_ids(harness, ISO) == ["b-nightly"]
    assert await scheduled_ids(harness, ISO_B) == ["nightly"]

    changed = schedule(harness, "nightly").model_copy(update={"enabled": False})
    for job_id in ["nightly", *climbing("iso-b", "nightly")]:
        with pytest.raises(REFUSED):
            await harness.call(ISO, ScheduledJobsBackend.get_scheduled_job, job_id)
        with pytest.raises(REFUSED):
            await harness.call(ISO, ScheduledJobsBackend.update_scheduled_job, job_id, changed)
        with pytest.raises(REFUSED):
            await harness.call(ISO, ScheduledJobsBackend.delete_scheduled_job, job_id)

    await harness.call(ISO, create, schedule(harness, "nightly"))
    await harness.call(ISO, ScheduledJobsBackend.delete_scheduled_job, "nightly")
    await harness.call(ISO, ScheduledJobsBackend.delete_scheduled_job, "b-nightly")
    assert await scheduled_ids(harness, ISO) == []
    kept = await harness.call(ISO_B, ScheduledJobsBackend.get_scheduled_job, "nightly")
    assert kept.enabled
    assert kept.schedule.value == harness.schedule
    await harness.call(ISO_B, ScheduledJobsBackend.delete_scheduled_job, "nightly")
