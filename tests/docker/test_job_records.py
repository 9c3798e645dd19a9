"""Job records and the reconciler, on a real Docker Engine: jobs survive restarts, and
what happens behind Asgard's back is noticed."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from asgard.backends.contract import JobsBackend
from asgard.backends.docker.config import DockerClusterConfig
from asgard.backends.orchestrator import Orchestrator
from asgard.db.job_records import JobRecordStore
from asgard.db.tables import LeaseRow
from asgard.models import Account, JobSpec, Role
from asgard.reconciler import Reconciler
from asgard.testing.files import unzip
from testbed.asgard_process import RunningAsgard, running_asgard
from tests.conftest import StartAsgard, backend_context, build
from tests.support.asgard import AsgardUnderTest, Caller
from tests.support.dockerd import TEST_IMAGE, DockerDaemon

SETTLE_S = 60


@dataclass
class Env:
    asgard: AsgardUnderTest
    daemon: DockerDaemon
    dev: Caller
    dev_account: Account
    fleet: Orchestrator


@pytest.fixture
async def env(
    start_asgard: StartAsgard, engine: DockerDaemon, tmp_path: Path
) -> AsyncIterator[Env]:
    config = DockerClusterConfig(name="local", url=engine.url, job_retention_s=3600)
    data_dir = tmp_path / "data"
    cluster = await build(config, backend_context(data_dir))
    fleet = Orchestrator([cluster])
    asgard = await start_asgard(fleet, data_dir=data_dir, reconcile_s=3600)
    dev = await asgard.account("dev")
    yield Env(
        asgard=asgard,
        daemon=engine,
        dev=await asgard.caller("dev@example.com", roles={dev.id: Role.OPERATOR}),
        dev_account=dev,
        fleet=fleet,
    )
    await cluster.close()


def job(name: str, script: str) -> dict[str, Any]:
    return {"cluster": "local", "name": name, "image": TEST_IMAGE, "command": ["sh", "-c", script]}


def reconciler(env: Env, *, orphan_grace_s: float = 600, lease: str = "reconciler") -> Reconciler:
    return Reconciler(
        env.asgard.db,
        env.fleet,
        interval_s=3600,
        orphan_grace_s=orphan_grace_s,
        retention_s=3600,
        lease=lease,
    )


def containers_of(daemon: DockerDaemon, job_id: str) -> list[str]:
    return daemon.cli("ps", "-aq", "--filter", f"label=asgard.job={job_id}").split()


async def test_a_job_carries_the_history_of_its_states(env: Env) -> None:
    created = (await env.dev.json("POST", "/jobs", status=201, json=job("hist", "sleep 1")))["job"]
    assert [t["reason"] for t in created["history"]] == ["created"]
    deadline = time.monotonic() + SETTLE_S
    while time.monotonic() < deadline:
        found = (await env.dev.json("GET", f"/clusters/local/jobs/{created['id']}"))["job"]
        if found["status"]["state"] == "succeeded":
            break
        await asyncio.sleep(0.3)
    states = [t["state"] for t in found["history"]]
    assert states[-1] == "succeeded"
    assert states[0] in ("pending", "running")
    listed = (await env.dev.json("GET", "/jobs"))["jobs"]
    assert [j["history"] for j in listed] == [found["history"]]


async def test_a_job_deleted_behind_asgards_back_is_failed_with_the_reason(env: Env) -> None:
    created = (await env.dev.json("POST", "/jobs", status=201, json=job("gone", "sleep 600")))[
        "job"
    ]
    job_id = created["id"]
    for container in containers_of(env.daemon, job_id):
        env.daemon.cli("rm", "-f", container)
    env.daemon.cli("volume", "prune", "-f")

    found = (await env.dev.json("GET", f"/clusters/local/jobs/{job_id}"))["job"]
    assert found["status"]["state"] == "failed"
    assert "vanished from cluster local" in found["status"]["message"]
    assert found["history"][-1]["state"] == "failed"
    assert "removed outside Asgard" in found["history"][-1]["reason"]
    listed = (await env.dev.json("GET", "/jobs"))["jobs"]
    assert [(j["id"], j["status"]["state"]) for j in listed] == [(job_id, "failed")]

    await env.dev.json("DELETE", f"/clusters/local/jobs/{job_id}", status=204)
    assert (await env.dev.json("GET", "/jobs"))["jobs"] == []
    await env.dev.json("GET", f"/clusters/local/jobs/{job_id}", status=404)


async def test_the_reconciler_marks_a_vanished_job_without_being_asked(env: Env) -> None:
    created = (await env.dev.json("POST", "/jobs", status=201, json=job("lost", "sleep 600")))[
        "job"
    ]
    for container in containers_of(env.daemon, created["id"]):
        env.daemon.cli("rm", "-f", container)
    done = await reconciler(env).once()
    assert done.vanished == [created["id"]]
    async with env.asgard.db.session() as session:
        record = await JobRecordStore(session).get(env.dev_account.id, "local", created["id"])
    assert record is not None
    assert record.status.state == "failed"
    assert (await reconciler(env).once()).vanished == [], "said once, not on every pass"


async def test_an_orphaned_job_is_reported_then_removed(env: Env) -> None:
    dev = env.dev_account
    # A job of the account's namespace that Asgard has no record of (made by an older
    # Asgard, or by hand with Asgard's labels).
    orphan = await env.fleet.call(
        dev,
        "local",
        JobsBackend.create_job,
        JobSpec.model_validate(job("orphan", "sleep 600")),
        None,
    )
    patient = reconciler(env, orphan_grace_s=600)
    first = await patient.once()
    assert first.orphans == [orphan.id], "reported"
    assert containers_of(env.daemon, orphan.id), "not removed within its grace period"

    recorded = (await env.dev.json("POST", "/jobs", status=201, json=job("mine", "sleep 600")))[
        "job"
    ]
    prompt = reconciler(env, orphan_grace_s=0)
    done = await prompt.once()
    assert done.removed_orphans == [orphan.id]
    assert containers_of(env.daemon, orphan.id) == []
    assert containers_of(env.daemon, recorded["id"]), "a recorded job is never an orphan"


async def test_an_orphan_older_than_its_grace_goes_at_a_new_reconcilers_first_pass(
    env: Env,
) -> None:
    """The grace counts from the job's creation on the cluster: a restart of Asgard (a new
    reconciler, nothing in memory) does not give an old orphan its grace again."""
    orphan = await env.fleet.call(
        env.dev_account,
        "local",
        JobsBackend.create_job,
        JobSpec.model_validate(job("old", "sleep 600")),
        None,
    )
    await asyncio.sleep(2.5)
    done = await reconciler(env, orphan_grace_s=2).once()
    assert done.removed_orphans == [orphan.id]
    assert containers_of(env.daemon, orphan.id) == []


async def test_one_reconciler_acts_at_a_time(env: Env) -> None:
    # The server's reconciler takes its lease in the background as it starts: wait for it
    # (on a busy SQLite file another taker could otherwise get there first).
    deadline = time.monotonic() + 20
    while True:
        async with env.asgard.db.session() as session:
            lease = await session.get(LeaseRow, "reconciler")
        if lease is not None:
            break
        assert time.monotonic() < deadline, "the server's reconciler never took its lease"
        await asyncio.sleep(0.1)
    assert not await reconciler(env).lead(), "the server's own reconciler holds the lease"
    first, second = reconciler(env, lease="other"), reconciler(env, lease="other")
    assert await first.lead()
    assert not await second.lead(), "the lease is held"
    assert await first.lead(), "and kept by its holder"
    await first.close()  # releases it
    assert await second.lead()
    await second.close()


# Killed and started again


async def call(asgard: RunningAsgard, method: str, path: str, **kwargs: Any) -> Any:
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, f"{asgard.url}{path}", headers=asgard.headers, **kwargs) as r,
    ):
        if r.content_type == "application/json":
            return r.status, await r.json()
        return r.status, await r.read()


async def test_a_job_survives_asgard_being_killed(engine: DockerDaemon, tmp_path: Path) -> None:
    clusters = [{"name": "local", "kind": "docker", "url": engine.url}]
    settings = {"ASGARD_RECONCILE_S": "1"}
    script = "sleep 4; echo made while Asgard was down > /output/result.txt"
    async with running_asgard(tmp_path, clusters, role="operator", settings=settings) as asgard:
        status, body = await call(asgard, "POST", "/jobs", json=job("survivor", script))
        assert status == 201, body
        job_id = body["job"]["id"]
        os.kill(asgard.pid, signal.SIGKILL)  # no goodbye, no cleanup
        key = asgard.key

    deadline = time.monotonic() + SETTLE_S
    while engine.cli("ps", "-q", "--filter", f"label=asgard.job={job_id}").strip():
        assert time.monotonic() < deadline, "the job never ended"
        await asyncio.sleep(0.5)

    async with running_asgard(tmp_path, clusters, key=key, settings=settings) as again:
        deadline = time.monotonic() + SETTLE_S
        while True:
            status, body = await call(again, "GET", f"/clusters/local/jobs/{job_id}")
            assert status == 200, body
            state = body["job"]["status"]["state"]
            output_status, output = await call(
                again, "GET", f"/clusters/local/jobs/{job_id}/output"
            )
            if state == "succeeded" and output_status == 200:
                break
            assert time.monotonic() < deadline, f"state {state}, output {output_status}"
            await asyncio.sleep(0.5)
        assert unzip(output) == {"result.txt": b"made while Asgard was down\n"}
        assert [t["state"] for t in body["job"]["history"]][-1] == "succeeded"
