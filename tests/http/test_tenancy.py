"""Tenancy for every route, read off the OpenAPI document: a route added later is covered
without anyone having to remember it.

Account ``alpha`` makes one of everything on a Kubernetes cluster (an app, a job, a
workflow, a scheduled job) and its agent is alpha's alone (its ``owner``). Then a member
of another account, ``beta`` (an admin there, not an Asgard administrator), calls every
operation of the document with alpha's ids in the path: each answer naming one of
alpha's things must be 403 or 404 (an error may repeat the id beta sent, nothing
more), and no other answer may carry anything of alpha's.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from asgard.http.app import operations
from asgard.http.openapi import openapi_path, path_params
from asgard.models import Role
from tests.conftest import KubeCluster, StartAsgard, running_kube
from tests.support.asgard import AsgardUnderTest, Caller

SECRET = "alpha-secret"
"""Every name alpha gives: an answer to beta holding it has leaked."""
NOT_FOR_USERS = {"GET /events"}
"""A stream: ``tests/docker/test_events.py`` checks who hears what."""
OWN_HISTORY = "GET /audit"
"""Beta's own writes, the ids of alpha's it sent among them: each must be beta's."""
JOB = {"cluster": "k8s", "image": "busybox", "command": ["true"]}
BODIES: dict[str, Any] = {
    "create_app": {"cluster": "k8s", "id": "beta-app", "image": "busybox"},
    "patch_app": {"instances": 0},
    "rollback_app": {},
    "create_job": {**JOB, "name": "beta-job"},
    "create_workflow": {"cluster": "k8s", "name": "beta-flow", "stages": [{**JOB, "name": "a"}]},
    "create_scheduled_job": {**JOB, "name": "beta-sched", "schedule": {"value": "0 3 * * *"}},
    "put_scheduled_job": {**JOB, "name": f"{SECRET}-sched", "schedule": {"value": "0 4 * * *"}},
    "create_account": {"name": "gamma", "namespace": "gamma"},
    "patch_account": {"name": "renamed"},
    "put_member": {"role": "viewer"},
    "create_user": {"name": "x", "email": "x@example.com"},
    "patch_user": {"name": "renamed"},
    "create_token": {"name": "beta-key"},
}


@dataclass
class Alpha:
    """What alpha made: the value of every path parameter that names one of its things
    (``schedule`` stands for ``job_id`` under ``/scheduled-jobs``)."""

    values: dict[str, str]
    asgard: AsgardUnderTest
    beta: Caller


async def made(caller: Caller, path: str, body: dict[str, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = await caller.json("POST", path, status=201, json=body)
    return next(iter(answer.values()))


async def alphas_things(asgard: AsgardUnderTest, kube: KubeCluster) -> Alpha:
    alpha = await asgard.account("alpha", owner="team-a")
    beta = await asgard.account("beta", owner="team-b")
    owner = await asgard.caller("alpha@example.com", roles={alpha.id: Role.ADMIN})
    other = await asgard.caller("beta@example.com", roles={beta.id: Role.ADMIN})
    await kube.controllers.call(
        "PATCH", "/api/v1/nodes/node-1", {"metadata": {"labels": {"owner": "team-a"}}}
    )
    app = await made(owner, "/apps", {"cluster": "k8s", "id": f"{SECRET}-app", "image": "x"})
    job = await made(owner, "/jobs", {**JOB, "name": f"{SECRET}-job"})
    flow = await made(
        owner,
        "/workflows",
        {"cluster": "k8s", "name": f"{SECRET}-flow", "stages": [{**JOB, "name": "one"}]},
    )
    schedule = await made(
        owner,
        "/scheduled-jobs",
        {**JOB, "name": f"{SECRET}-sched", "schedule": {"value": "0 3 * * *"}},
    )
    [token] = (await owner.json("GET", "/users/me/tokens"))["tokens"]
    values = {
        "schedule": schedule["id"],
        "cluster": "k8s",
        "app_id": app["id"],
        "version": "1",
        "agent_id": "node-1",
        "job_id": job["id"],
        "workflow_id": flow["id"],
        "stage": "one",
        "account_id": str(alpha.id),
        "user_id": str(owner.user.id),
        "token_id": str(token["id"]),
    }
    return Alpha(values, asgard, other)


@pytest.fixture
async def alpha(start_asgard: StartAsgard) -> AsyncIterator[Alpha]:
    async with running_kube() as kube:
        asgard = await start_asgard(kube.orchestrator, data_dir=kube.context.data_dir)
        yield await alphas_things(asgard, kube)


async def test_no_operation_shows_or_touches_another_accounts_things(alpha: Alpha) -> None:
    asked: list[str] = []
    for op in operations():
        name = f"{op.method} {openapi_path(op.path)}"
        if op.auth != "user" or name in NOT_FOR_USERS:
            continue
        path = openapi_path(op.path)
        for param in path_params(op.path):
            scheduled = param == "job_id" and "/scheduled-jobs/" in path
            path = path.replace(f"{{{param}}}", alpha.values["schedule" if scheduled else param])
        body = BODIES.get(op.handler.__name__)
        response = await alpha.beta.request(op.method, path, json=body)
        text = await response.text()
        asked.append(name)
        assert response.status < 500 or response.status == 501, f"{name}: {response.status}"
        if set(path_params(op.path)) - {"cluster"}:
            assert response.status in (403, 404), f"{name} let beta at alpha's: {response.status}"
        elif name == OWN_HISTORY:
            entries = (await response.json())["entries"]
            assert entries, "beta's writes above are in its account's log"
            for entry in entries:
                assert entry["user"] == alpha.beta.user.id, f"{name} showed beta {entry}"
                assert str(entry["account"]) != alpha.values["account_id"], entry
        else:  # beta named nothing of alpha's: nothing of alpha's may come back
            assert SECRET not in text, f"{name} showed alpha's things to beta: {text[:300]}"
    assert len(asked) > 40, "every operation of the document was asked"
