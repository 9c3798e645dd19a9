"""Versions and rollback over HTTP, on Marathon's own history (the fake keeps every version
of an app, as Marathon does)."""

from __future__ import annotations

from typing import Any

import pytest

from asgard.models import Role
from tests.conftest import MesosCluster, StartAsgard
from tests.support.asgard import Caller

APP = "/clusters/mesos/apps/shop/web"
SPEC = {
    "cluster": "mesos",
    "id": "shop/web",
    "image": "web:1",
    "args": ["serve"],
    "env": {"MODE": "test"},
    "instances": 1,
}


@pytest.fixture
async def callers(
    start_asgard: StartAsgard, mesos: MesosCluster
) -> tuple[MesosCluster, Caller, Caller, Caller]:
    asgard = await start_asgard(mesos.orchestrator)
    account = await asgard.account("dev", owner="asgard-dev")
    ana = await asgard.caller("ana@example.com", roles={account.id: Role.OPERATOR})
    ben = await asgard.caller("ben@example.com", roles={account.id: Role.OPERATOR})
    viewer = await asgard.caller("vic@example.com", roles={account.id: Role.VIEWER})
    return mesos, ana, ben, viewer


async def versions(caller: Caller) -> list[dict[str, Any]]:
    return list((await caller.json("GET", f"{APP}/versions"))["versions"])


async def test_versions_are_marathons_newest_first_with_who_deployed_them(
    callers: tuple[MesosCluster, Caller, Caller, Caller],
) -> None:
    mesos, ana, ben, viewer = callers
    await ana.json("POST", "/apps", status=201, json=SPEC)
    await ben.json("PATCH", APP, json={"env": {"MODE": "prod"}})
    kept = [v["version"] for v in mesos.marathon.versions["/dev/shop/web"]]

    found = await versions(viewer)
    assert [v["id"] for v in found] == kept[::-1], "Marathon's ids, newest first"
    assert [v["spec"]["env"] for v in found] == [{"MODE": "prod"}, {"MODE": "test"}]
    assert [v["by"] for v in found] == ["ben@example.com", "ana@example.com"]
    assert all(v["created_at"] and v["unsupported"] is None for v in found)
    assert found[0]["spec"]["constraints"] == ["owner==asgard-dev"]

    one = (await viewer.json("GET", f"{APP}/versions/{found[1]['id']}"))["version"]
    assert one == found[1]
    missing = await viewer.get(f"{APP}/versions/2020-01-01T00:00:00.000Z")
    assert missing.status == 404
    assert "no version" in (await missing.json())["errors"][0]["msg"]
    assert (await viewer.get("/clusters/mesos/apps/nothing/versions")).status == 404
    refused = await viewer.post(f"{APP}/rollback", json={})
    assert refused.status == 403, "a viewer reads versions, never rolls back"


async def test_a_rollback_uses_marathons_own_and_is_recorded(
    callers: tuple[MesosCluster, Caller, Caller, Caller],
) -> None:
    mesos, ana, ben, _ = callers
    await ana.json("POST", "/apps", status=201, json=SPEC)
    await ana.json("PATCH", APP, json={"env": {"MODE": "prod"}, "instances": 2})
    first = (await versions(ana))[-1]

    app = (await ben.json("POST", f"{APP}/rollback", json={}))["app"]
    assert (app["env"], app["instances"]["desired"]) == ({"MODE": "test"}, 1)
    put = [body for _, m, _, body in mesos.marathon.received if m == "PUT"][-1]
    assert put == {"version": first["id"]}, "Marathon's own rollback, to the version named"

    now = await versions(ana)
    assert len(now) == 3, "Marathon keeps the rollback as a version of its own"
    assert (now[0]["spec"]["env"], now[0]["by"]) == ({"MODE": "test"}, "ben@example.com")
    assert now[-1]["by"] == "ana@example.com", "the first deploy is still Ana's"

    again = (await ana.json("POST", f"{APP}/rollback", json={"version": now[1]["id"]}))["app"]
    assert again["env"] == {"MODE": "prod"}
    assert (await ana.post(f"{APP}/rollback", json={"version": "nope"})).status == 404
    assert (await ana.post(f"{APP}/rollback", json={"versions": "x"})).status == 422


async def test_a_rollback_during_a_deployment_is_a_conflict(
    callers: tuple[MesosCluster, Caller, Caller, Caller],
) -> None:
    mesos, ana, _, _ = callers
    await ana.json("POST", "/apps", status=201, json=SPEC)
    mesos.marathon.hold_deployments = True
    await ana.json("PATCH", APP, json={"env": {"MODE": "prod"}})

    refused = await ana.post(f"{APP}/rollback", json={})
    assert refused.status == 409
    assert "locked" in (await refused.json())["errors"][0]["msg"]
    mesos.marathon.finish_deployments()
    mesos.marathon.hold_deployments = False
    app = (await ana.json("POST", f"{APP}/rollback", json={}))["app"]
    assert app["env"] == {"MODE": "test"}


async def test_a_version_asgard_cannot_say_is_shown_and_refused(
    callers: tuple[MesosCluster, Caller, Caller, Caller],
) -> None:
    mesos, ana, _, _ = callers
    await ana.json("POST", "/apps", status=201, json=SPEC)
    app = mesos.marathon.apps["/dev/shop/web"]
    app["constraints"] = [*app["constraints"], ["hostname", "GROUP_BY", "3"]]
    app["env"] = {"MODE": "grouped"}
    mesos.marathon._stamp(app)  # a change made on Marathon, without Asgard
    await ana.json("PATCH", APP, json={"env": {"MODE": "prod"}})

    grouped = (await versions(ana))[1]
    assert grouped["spec"]["env"] == {"MODE": "grouped"}
    assert grouped["by"] is None, "not deployed through Asgard"
    assert "GROUP_BY" in grouped["unsupported"]
    refused = await ana.post(f"{APP}/rollback", json={"version": grouped["id"]})
    assert refused.status == 422
    error = (await refused.json())["errors"][0]
    assert error["field"] == "version"
    assert "GROUP_BY" in error["msg"]
    assert (await ana.json("GET", APP))["app"]["env"] == {"MODE": "prod"}, "nothing changed"
