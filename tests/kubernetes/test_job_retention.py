"""A finished Kubernetes job stays listed, from its record, until ``job_retention_s``.

The reconciler removes a finished job once its retention has passed since it finished,
and the finish time is the cluster's: the Job's ``completionTime`` (or the failure
condition's ``lastTransitionTime``). These tests therefore end Jobs at the time they
really end; a Job stamped as having completed days ago is expired at once (the last
test shows it), which is what a real cluster's TTL controller would do too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from asgard.models import Role
from asgard.reconciler import Reconciler
from testbed.kube import items
from tests.conftest import KubeCluster, StartAsgard, running_kube
from tests.support.asgard import AsgardUnderTest, Caller

WEEK_S = 7 * 24 * 3600.0


@dataclass
class Env:
    kube: KubeCluster
    asgard: AsgardUnderTest
    dev: Caller


@pytest.fixture
async def env(start_asgard: StartAsgard) -> AsyncIterator[Env]:
    async with running_kube() as kube:
        asgard = await start_asgard(kube.orchestrator, data_dir=kube.context.data_dir)
        account = await asgard.account("dev")
        yield Env(
            kube, asgard, await asgard.caller("dev@example.com", roles={account.id: Role.OPERATOR})
        )


def reconciler(env: Env) -> Reconciler:
    """As ``asgard serve`` makes it, with no grace for orphans: a job whose record did not
    match what the listing finds would be removed by the first pass."""
    return Reconciler(
        env.asgard.db,
        env.kube.orchestrator,
        interval_s=3600,
        orphan_grace_s=0,
        retention_s=WEEK_S,
    )


async def listed(env: Env, job_id: str) -> dict[str, Any] | None:
    jobs = (await env.dev.json("GET", "/jobs"))["jobs"]
    return next((j for j in jobs if j["id"] == job_id), None)


def cluster_jobs(env: Env) -> list[str]:
    return [j["metadata"]["name"] for j in items(env.kube.emulator, "batch/v1/jobs", "dev")]


async def test_a_finished_job_stays_listed_after_its_cluster_job_is_gone(env: Env) -> None:
    spec = {"cluster": "k8s", "name": "etl", "image": "etl:1"}
    job_id = (await env.dev.json("POST", "/jobs", status=201, json=spec))["job"]["id"]
    await env.kube.controllers.run_job("dev", job_id)
    await env.kube.controllers.end_job("dev", job_id, 0)
    done = await listed(env, job_id)
    assert done is not None
    assert done["status"]["state"] == "succeeded"

    passed = await reconciler(env).once()
    assert job_id not in passed.expired + passed.removed_orphans + passed.vanished, passed
    assert job_id in cluster_jobs(env), "the Job is kept for its retention"
    kept = await listed(env, job_id)
    assert kept is not None
    assert kept["status"]["state"] == "succeeded"

    # The cluster forgets the Job (its TTL controller, someone's kubectl delete).
    await env.kube.controllers.call("DELETE", f"/apis/batch/v1/namespaces/dev/jobs/{job_id}")
    assert job_id not in cluster_jobs(env)
    gone = await listed(env, job_id)
    assert gone is not None, "still listed, from its record"
    assert gone["status"]["state"] == "succeeded"
    assert gone["status"]["exit_code"] == 0

    passed = await reconciler(env).once()
    assert job_id not in passed.expired + passed.removed_orphans + passed.vanished, passed
    after = await listed(env, job_id)
    assert after is not None
    assert after["status"]["state"] == "succeeded"
    assert [t["state"] for t in after["history"]][-1] == "succeeded"


async def test_a_job_that_finished_longer_than_the_retention_ago_is_removed(env: Env) -> None:
    """What made a finished job leave ``GET /jobs`` in the browser tests: their Jobs were
    stamped as completed at a fixed date, over a week before the run."""
    spec = {"cluster": "k8s", "name": "old", "image": "etl:1"}
    job_id = (await env.dev.json("POST", "/jobs", status=201, json=spec))["job"]["id"]
    await env.kube.controllers.end_job("dev", job_id, 0, at="2026-01-01T12:00:00Z")
    done = await listed(env, job_id)
    assert done is not None
    assert done["status"]["state"] == "succeeded"

    # A pass sees the Job finished and records when: at its completionTime, ...
    passing = reconciler(env)
    passed = await passing.once()
    if job_id not in passed.expired:
        assert (passed.settled, passed.expired) == ([job_id], [])
        # ... which is longer than the retention ago, so the next pass (``reconcile_s``
        # later: 30 s by default) deletes the Job, its collector and files, and forgets
        # the record. (Asgard's own reconciler runs its first pass as it starts, and can
        # be the one that settled it: then this test's first pass is that next pass.)
        passed = await passing.once()
    assert passed.expired == [job_id]
    assert job_id not in cluster_jobs(env)
    assert await listed(env, job_id) is None
