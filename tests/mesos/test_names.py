"""Chronos job names on the Chronos fake: a namespace that is a prefix of another
(``team``, ``team-b``) neither sees nor touches the other's scheduled jobs, and jobs named
as before (``<namespace>-<name>``, the recorded ones among them) become their namespace's
through ``asgard migrate-names``, or are left alone when their name does not say whose."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from asgard.backends.contract import ScheduledJobsBackend
from asgard.backends.mesos.chronos import Chronos
from asgard.backends.mesos.client import MesosClient
from asgard.backends.mesos.renames import Rename, rename_old_jobs
from asgard.errors import NotFound
from asgard.models import Account, Schedule, ScheduledJobSpec
from tests.conftest import MesosCluster, running_mesos
from tests.support.mesos_fakes import FakeChronos

TEAM = Account(id=1, name="team", namespace="team")
TEAM_B = Account(id=2, name="team-b", namespace="team-b")
DEV = Account(id=3, name="dev", namespace="dev")
ASGARD = [sys.executable, "-m", "asgard"]


def nightly(name: str) -> ScheduledJobSpec:
    return ScheduledJobSpec(
        cluster="mesos",
        name=name,
        image="report:2",
        command=["report"],
        schedule=Schedule(value="R/2026-12-01T03:00:00Z/PT24H"),
    )


@pytest.fixture
async def mesos() -> AsyncIterator[MesosCluster]:
    """A Mesos cluster whose Chronos holds the recorded jobs as they were recorded."""
    async with running_mesos() as cluster:
        cluster.chronos.jobs.clear()
        cluster.chronos.jobs.update(FakeChronos(old_names=True).jobs)
        yield cluster


def chronos_of(mesos: MesosCluster) -> Chronos:
    """Asgard's Chronos client of the cluster (the one ``asgard migrate-names`` uses)."""
    client = mesos.cluster.client
    assert isinstance(client, MesosClient)
    return client.chronos


async def scheduled(mesos: MesosCluster, account: Account) -> list[str]:
    listing = await mesos.orchestrator.fan_out(
        account, None, ScheduledJobsBackend.list_scheduled_jobs
    )
    return [j.id for j in listing.items]


async def test_a_prefix_namespace_neither_sees_nor_touches_the_other(mesos: MesosCluster) -> None:
    call = mesos.orchestrator.call
    await call(TEAM_B, "mesos", ScheduledJobsBackend.create_scheduled_job, nightly("nightly"))
    await call(TEAM, "mesos", ScheduledJobsBackend.create_scheduled_job, nightly("b-nightly"))
    assert {"team-b_nightly", "team_b-nightly"} <= set(mesos.chronos.jobs)
    assert await scheduled(mesos, TEAM) == ["b-nightly"]
    assert await scheduled(mesos, TEAM_B) == ["nightly"]

    for job_id in ("nightly", "b_nightly", "../team-b_nightly", "once_x"):
        with pytest.raises(NotFound):
            await call(TEAM, "mesos", ScheduledJobsBackend.get_scheduled_job, job_id)
        with pytest.raises(NotFound):
            await call(TEAM, "mesos", ScheduledJobsBackend.delete_scheduled_job, job_id)
    await call(TEAM, "mesos", ScheduledJobsBackend.delete_scheduled_job, "b-nightly")
    assert await scheduled(mesos, TEAM) == []
    assert await scheduled(mesos, TEAM_B) == ["nightly"]
    assert mesos.chronos.jobs["team-b_nightly"]["schedule"] == "R/2026-12-01T03:00:00Z/PT24H"


async def test_old_names_are_nobodys_until_renamed(mesos: MesosCluster) -> None:
    """The recorded Chronos holds ``dev-another-job``, ``dev-with-infra-in-name-job`` and
    two of ``infra``; ``team-b-nightly`` fits ``team`` and ``team-b`` alike."""
    mesos.chronos.jobs["team-b-nightly"] = {
        **mesos.chronos.jobs["dev-another-job"],
        "name": "team-b-nightly",
    }
    assert await scheduled(mesos, DEV) == []
    assert await scheduled(mesos, TEAM) == [], "the flaw: team saw team-b's job as b-nightly"
    with pytest.raises(NotFound):
        await mesos.orchestrator.call(
            TEAM, "mesos", ScheduledJobsBackend.get_scheduled_job, "b-nightly"
        )
    namespaces = {"dev", "infra", "team", "team-b"}

    planned = await rename_old_jobs(chronos_of(mesos), namespaces, apply=False)
    assert planned == [
        Rename("dev-another-job", "dev_another-job"),
        Rename("dev-with-infra-in-name-job", "dev_with-infra-in-name-job"),
        Rename("infra-puge-logs-job", "infra_puge-logs-job"),
        Rename("infra-some-scheduled-job", "infra_some-scheduled-job"),
        Rename(
            "team-b-nightly",
            None,
            "fits namespaces team, team-b; say whose with --assign team-b-nightly=NAMESPACE",
        ),
    ]
    assert "dev-another-job" in mesos.chronos.jobs, "a dry run changes nothing"

    counts = mesos.chronos.jobs["dev-another-job"]["successCount"]
    await rename_old_jobs(chronos_of(mesos), namespaces)
    assert await scheduled(mesos, DEV) == ["another-job", "with-infra-in-name-job"]
    assert await scheduled(mesos, TEAM) == []
    assert mesos.chronos.jobs["dev_another-job"]["successCount"] == counts
    assert "dev-another-job" not in mesos.chronos.jobs
    assert "team-b-nightly" in mesos.chronos.jobs, "whose it is was not said: left alone"

    await rename_old_jobs(chronos_of(mesos), namespaces, assigned={"team-b-nightly": "team-b"})
    assert await scheduled(mesos, TEAM_B) == ["nightly"]
    assert await scheduled(mesos, TEAM) == []
    read = await mesos.orchestrator.call(
        TEAM_B, "mesos", ScheduledJobsBackend.get_scheduled_job, "nightly"
    )
    assert read.env == {"ENV_1": "VALUE_1", "ENV_2": "VALUE_2", "ENV_3": "VALUE_3"}


def asgard(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASGARD_")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    return subprocess.run(
        [*ASGARD, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=False
    )


async def test_asgard_migrate_names_renames_for_the_accounts_of_the_database(
    mesos: MesosCluster, tmp_path: Path
) -> None:
    config = tmp_path / "asgard.toml"
    config.write_text(
        f"""
[[clusters]]
name = "mesos"
kind = "mesos"
mesos_urls = {mesos.mesos.urls!r}
marathon_urls = {mesos.marathon.urls!r}
chronos_url = "{mesos.chronos.url}"
""".replace("'", '"')
    )
    for namespace in ("dev", "infra"):
        made = await asyncio.to_thread(
            asgard, tmp_path, "accounts", "create", "--name", namespace, "--namespace", namespace
        )
        assert made.returncode == 0, made.stderr

    dry = await asyncio.to_thread(
        asgard, tmp_path, "migrate-names", "--config", str(config), "--dry-run"
    )
    assert dry.returncode == 0, dry.stderr
    assert "mesos: dev-another-job -> dev_another-job (dry run)" in dry.stdout.splitlines()
    assert "dev-another-job" in mesos.chronos.jobs

    done = await asyncio.to_thread(asgard, tmp_path, "migrate-names", "--config", str(config))
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 4
    assert await scheduled(mesos, DEV) == ["another-job", "with-infra-in-name-job"]
    again = await asyncio.to_thread(asgard, tmp_path, "migrate-names", "--config", str(config))
    assert again.stdout.strip() == "nothing to rename"
