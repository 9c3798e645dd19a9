"""Every write through the API is recorded, successful or not, with who, where, what and
how it went; and nothing secret that a request carried reaches the table."""

from __future__ import annotations

from typing import Any

from asgard.models import Role
from tests.audit.site import Site, audited_site, rid
from tests.conftest import StartAsgard, kube_that_can_fail
from tests.support.watching import eventually

ENV_SECRET = "s3cr3t-env-value-of-the-app"
PATCHED_SECRET = "an0ther-s3cr3t-value"
JOB_SECRET = "the-jobs-own-s3cr3t"
APP = {"cluster": "k8s", "id": "web", "image": "nginx", "env": {"DB_PASSWORD": ENV_SECRET}}


def expect(entry: dict[str, Any], **fields: Any) -> None:
    got = {name: entry[name] for name in fields}
    assert got == fields, entry


async def test_writes_of_every_kind_are_recorded_with_their_outcome(
    start_asgard: StartAsgard, db_url: str
) -> None:
    async with audited_site(start_asgard, db_url) as site:
        await writes(site)
        await refusals(site)
        entries = await site.by_request()
        dev, op = site.dev.id, site.operator.user.id
        expect(entries["app-create"], user=op, account=dev, cluster="k8s", resource="app")
        expect(entries["app-create"], id="web", action="create", status=201, outcome="succeeded")
        expect(entries["app-patch"], resource="app", id="web", action="update", status=200)
        expect(entries["app-restart"], resource="app", action="restart", cluster="k8s")
        expect(entries["app-again"], id="web", status=409, outcome="refused", user=op)
        expect(entries["app-invalid"], resource="app", status=422, outcome="refused")
        expect(entries["app-viewer"], user=site.viewer.user.id, status=403, account=dev)
        expect(entries["app-missing"], id="nothing", status=404, action="delete")
        expect(entries["bad-key"], user=None, status=401, outcome="refused", resource="app")
        expect(entries["job-create"], resource="job", cluster="k8s", status=201, account=dev)
        assert entries["job-create"]["id"], "the id the job was given"
        expect(entries["sched"], resource="scheduled_job", id="nightly", status=201)
        expect(entries["user-create"], resource="user", account=None, status=201)
        expect(entries["key-create"], resource="api_key", user=op, account=None, status=201)
        expect(entries["member-put"], resource="membership", account=dev, status=200)
        expect(entries["account-create"], resource="account", action="create", status=201)
        expect(entries["account-other"], resource="account", id=str(dev), status=403)
        expect(entries["app-delete"], resource="app", action="delete", status=204)
        for entry in entries.values():
            assert entry["at"].endswith(("Z", "+00:00")), entry


async def writes(site: Site) -> str:
    """Writes that succeed; the API key one of them made."""
    op, admin = site.operator, site.admin
    await op.json("POST", "/apps", 201, json=APP, headers=rid("app-create"))
    patch = {"env": {"DB_PASSWORD": PATCHED_SECRET}}
    await op.json("PATCH", "/clusters/k8s/apps/web", 200, json=patch, headers=rid("app-patch"))
    await op.json("POST", "/clusters/k8s/apps/web/restart", headers=rid("app-restart"))
    job: dict[str, Any] = {"cluster": "k8s", "name": "once", "image": "busybox"}
    job |= {"command": ["true"], "env": {"TOKEN": JOB_SECRET}}
    await op.json("POST", "/jobs", 201, json=job, headers=rid("job-create"))
    schedule = {**job, "name": "nightly", "schedule": {"value": "0 3 * * *"}}
    await op.json("POST", "/scheduled-jobs", 201, json=schedule, headers=rid("sched"))
    user = {"name": "new", "email": "new@example.com"}
    made = await admin.json("POST", "/users", 201, json=user, headers=rid("user-create"))
    key = await op.json(
        "POST", "/users/me/tokens", 201, json={"name": "ci"}, headers=rid("key-create")
    )
    member = f"/accounts/{site.dev.id}/users/{made['user']['id']}"
    await admin.json("PUT", member, json={"role": "viewer"}, headers=rid("member-put"))
    other = {"name": "other", "namespace": "other"}
    await admin.json("POST", "/accounts", 201, json=other, headers=rid("account-create"))
    made_key: str = key["token"]["key"]
    return made_key


async def refusals(site: Site) -> None:
    """Writes that fail, each differently; then the app of ``writes`` is deleted."""
    op = site.operator
    await op.json("POST", "/apps", 409, json=APP, headers=rid("app-again"))
    bad = {**APP, "id": "Not_A_Label"}
    await op.json("POST", "/apps", 422, json=bad, headers=rid("app-invalid"))
    other = {**APP, "id": "other"}
    await site.viewer.json("POST", "/apps", 403, json=other, headers=rid("app-viewer"))
    await op.json("DELETE", "/clusters/k8s/apps/nothing", 404, headers=rid("app-missing"))
    answer = await site.asgard.client.post(
        "/apps",
        json=other,
        headers={"Authorization": "Token asg_nobody_notakeyatallreally", **rid("bad-key")},
    )
    assert answer.status == 401
    await op.json(
        "PATCH", f"/accounts/{site.dev.id}", 403, json={"name": "x"}, headers=rid("account-other")
    )
    await op.json("DELETE", "/clusters/k8s/apps/web", 204, headers=rid("app-delete"))


async def test_no_secret_a_request_carried_is_in_the_table(
    start_asgard: StartAsgard, db_url: str
) -> None:
    """Env values of apps and jobs, the API key a token create answered with, the key of a
    request refused for it: none of them in any column of any row."""
    async with audited_site(start_asgard, db_url) as site:
        new_key = await writes(site)
        await refusals(site)
        rows = "\n".join(await site.rows())
        assert "k8s" in rows, "the table is the one written to"
        secrets = [ENV_SECRET, PATCHED_SECRET, JOB_SECRET, new_key]
        secrets += [site.operator.key, site.admin.key, "notakeyatallreally", "DB_PASSWORD"]
        for secret in secrets:
            assert secret not in rows


async def test_reads_are_not_recorded(start_asgard: StartAsgard, db_url: str) -> None:
    async with audited_site(start_asgard, db_url) as site:
        await site.operator.json("GET", "/apps", headers=rid("read-apps"))
        await site.operator.json("GET", "/users/me", headers=rid("read-me"))
        found = await site.entries()
        assert found == {"entries": [], "next_cursor": None, "total": 0}


async def test_what_a_url_carries_that_a_column_cannot_hold_is_cut_to_fit(
    start_asgard: StartAsgard, db_url: str
) -> None:
    """An account id beyond any integer column: the write is refused as always, and
    recorded. A cluster name longer than its column, or holding a NUL (which PostgreSQL
    refuses in text), names no route at all (typed ids): refused, and no write to record."""
    async with audited_site(start_asgard, db_url) as site:
        longest = "c" * 63
        await site.operator.json("DELETE", f"/clusters/{longest}/apps/web", 404, headers=rid("63"))
        for name in ("c" * 100, f"{longest}%00"):
            path = f"/clusters/{name}/apps/web"
            await site.operator.json("DELETE", path, 404, headers=rid(name[:8]))
        huge = f"/accounts/{2**40}/users/{site.viewer.user.id}"
        await site.admin.json("PUT", huge, 404, json={"role": "viewer"}, headers=rid("huge"))
        entries = await site.by_request()
        assert (entries["63"]["cluster"], entries["63"]["status"]) == (longest, 404)
        assert "c" * 8 not in entries, "a path no route takes is no write"
        assert (entries["huge"]["account"], entries["huge"]["status"]) == (None, 404)


async def test_a_write_the_cluster_fails_and_workflow_writes_are_recorded(
    start_asgard: StartAsgard, db_url: str
) -> None:
    """A 502 is an outcome too (the cluster, not the caller, failed); workflows are written
    in Asgard's own database, and recorded as every other write is."""
    async with kube_that_can_fail(start_asgard, db_url=db_url) as served:
        asgard = served.asgard
        dev = await asgard.account("dev")
        op = await asgard.caller("op@example.com", roles={dev.id: Role.OPERATOR})
        admin = await asgard.caller("root@example.com", admin=True)
        flow = {"cluster": "k8s", "name": "etl", "stages": [{"name": "a", "image": "busybox"}]}
        made = await op.json("POST", "/workflows", 201, json=flow, headers=rid("wf-create"))
        workflow = made["workflow"]["id"]
        await op.json("POST", "/workflows", 422, json={**flow, "stages": []}, headers=rid("wf-bad"))
        one = f"/clusters/k8s/workflows/{workflow}"
        await op.json("DELETE", one, 204, headers=rid("wf-delete"))
        await served.server.stop()
        app = {"cluster": "k8s", "id": "web", "image": "nginx"}
        refused = await op.request("POST", "/apps", json=app, headers=rid("app-down"))
        assert refused.status in (502, 504), await refused.text()

        async def recorded() -> dict[str, dict[str, Any]]:
            found = await admin.json("GET", "/audit", params={"limit": "100"})
            entries = {e["request_id"]: e for e in found["entries"]}
            return entries if "app-down" in entries else {}

        entries = await eventually(recorded, "the failed write recorded", 10)
        expect(entries["wf-create"], resource="workflow", id=workflow, status=201, cluster="k8s")
        expect(entries["wf-bad"], resource="workflow", action="create", status=422)
        expect(entries["wf-delete"], resource="workflow", action="delete", status=204)
        expect(entries["app-down"], resource="app", cluster="k8s", status=refused.status)
        assert entries["app-down"]["outcome"] == "failed", entries["app-down"]
