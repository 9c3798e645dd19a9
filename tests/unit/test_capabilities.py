"""What a cluster says it lacks is refused by Asgard, with 501, without asking the kind.

The ``static`` kind answers a restart with ``NotFound`` and reads no task logs; a
``NotSupported`` naming what the cluster lacks therefore says that Asgard refused the
operation itself. Capabilities that follow from others (no jobs, no job logs) are
implied, and a kind without a jobs backend has no jobs whatever it declares."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from asgard.backends.contract import AppsBackend, JobsBackend, ScheduledJobsBackend
from asgard.backends.mesos.config import MesosClusterConfig
from asgard.backends.mesos.plugin import capabilities_for
from asgard.backends.orchestrator import Orchestrator
from asgard.db.engine import Database, upgrade
from asgard.errors import NotFound, NotSupported
from asgard.models import Account, Capabilities, Role, User
from asgard.services.apps import AppsService
from asgard.services.principal import Principal
from tests.support.static_backend import static_cluster

DEV = Account(id=1, name="dev", namespace="dev")


@pytest.fixture
async def fleet() -> AsyncIterator[Orchestrator]:
    lacking = await static_cluster("lean", [{"id": "a1"}], lacks=("app_writes", "log_since"))
    able = await static_cluster("able", [{"id": "b1"}])
    orchestrator = Orchestrator([lacking, able])
    yield orchestrator
    await orchestrator.close()


async def test_an_operation_the_cluster_lacks_is_refused_before_the_kind_is_asked(
    fleet: Orchestrator,
) -> None:
    with pytest.raises(NotSupported) as refused:
        await fleet.call(DEV, "lean", AppsBackend.restart_app, "web")
    assert refused.value.msg == "changing apps is not supported on static clusters"
    assert [d.cluster for d in refused.value.details] == ["lean"]
    with pytest.raises(NotFound):  # a cluster that can: its kind is asked, and answers
        await fleet.call(DEV, "able", AppsBackend.restart_app, "web")


async def test_a_listing_the_cluster_lacks_is_empty_and_no_error() -> None:
    agents_alone = await static_cluster("agents", [{"id": "a1"}], lacks=("apps",))
    fleet = Orchestrator([agents_alone])
    try:
        listing = await fleet.fan_out(DEV, None, AppsBackend.list_apps)
        assert (listing.items, listing.errors) == ([], [])
        with pytest.raises(NotSupported, match=r"^apps is not supported on static clusters$"):
            await fleet.call(DEV, "agents", AppsBackend.get_app, "web")
        assert fleet.capabilities(DEV, "agents").app_logs is False, "no apps, no app logs"
    finally:
        await fleet.close()


async def test_a_kind_without_a_jobs_backend_has_no_jobs(fleet: Orchestrator) -> None:
    capabilities = fleet.capabilities(DEV, "able")
    assert not capabilities.jobs
    assert not capabilities.job_logs
    assert not capabilities.job_files
    assert not capabilities.scheduled_jobs, "no scheduler of its own, and no jobs to start"
    with pytest.raises(NotSupported, match=r"^one-time jobs is not supported"):
        await fleet.call(DEV, "able", JobsBackend.get_job, "j-1")
    with pytest.raises(NotSupported, match=r"^scheduled jobs is not supported"):
        await fleet.call(DEV, "able", ScheduledJobsBackend.get_scheduled_job, "nightly")
    [status] = [s for s in await fleet.statuses(DEV) if s.name == "able"]
    assert status.capabilities == capabilities, "GET /clusters shows what the core refuses"


def test_what_follows_from_a_capability_is_implied() -> None:
    implied = Capabilities(jobs=False, own_scheduler=True).implied()
    assert implied.lacking("job_logs", "job_files", "workflow_volumes", "job_timeouts") == [
        "job_logs",
        "job_files",
        "workflow_volumes",
        "job_timeouts",
    ]
    assert implied.scheduled_jobs, "a scheduler of its own needs no one-time jobs"
    assert Capabilities().implied() == Capabilities()


def test_a_mesos_cluster_says_what_its_frameworks_allow() -> None:
    full = capabilities_for(
        MesosClusterConfig(
            name="m",
            mesos_urls=["http://m:5050"],
            marathon_urls=["http://m:8080"],
            chronos_url="http://c:4400",
        )
    )
    assert full.lacking("apps", "jobs", "scheduled_jobs") == []
    assert full.lacking("log_since", "job_logs", "job_files") == [
        "log_since",
        "job_logs",
        "job_files",
    ]
    bare = capabilities_for(MesosClusterConfig(name="m", mesos_urls=["http://m:5050"]))
    assert bare.lacking("apps", "app_writes", "jobs", "scheduled_jobs") == [
        "apps",
        "app_writes",
        "jobs",
        "scheduled_jobs",
    ]


async def test_logs_since_a_time_are_refused_by_the_service(
    fleet: Orchestrator, tmp_path: Path
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'asgard.db'}"
    await upgrade(url)
    db = Database(url)
    apps = AppsService(fleet, db)
    viewer = Principal(
        user=User(id=1, name="v", email="v@example.com"), account=DEV, role=Role.VIEWER
    )
    since = datetime(2026, 1, 1, tzinfo=UTC)
    try:
        for read in (
            apps.task_logs(viewer, "lean", "web", "t-1", tail=10, since=since, follow=False),
            apps.merged_logs(viewer, "lean", "web", tail=10, since=since, follow=False),
        ):
            with pytest.raises(NotSupported) as refused:
                await read
            assert refused.value.msg.startswith("reading logs since a time (its log lines")
    finally:
        await db.close()
