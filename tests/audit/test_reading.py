"""Reading the audit log: filters, pages, who may read what, and refusing bad filters."""

from __future__ import annotations

from typing import Any

from asgard.models import Role
from asgard.services.principal import SYSTEM
from tests.audit.site import Site, audited_site, rid
from tests.conftest import StartAsgard

APP = {"cluster": "k8s", "image": "nginx"}


async def some_writes(site: Site) -> tuple[list[str], int]:
    """Writes in dev (apps, a member) and the creation of another account: their request
    ids in order (the last one left to Asgard), and that account's id."""
    op, admin = site.operator, site.admin
    done = []
    for name in ("one", "two", "three"):
        await op.json("POST", "/apps", 201, json={**APP, "id": name}, headers=rid(f"create-{name}"))
        done.append(f"create-{name}")
    await op.json("DELETE", "/clusters/k8s/apps/two", 204, headers=rid("delete-two"))
    done.append("delete-two")
    member = f"/accounts/{site.dev.id}/users/{site.viewer.user.id}"
    await admin.json("PUT", member, json={"role": "operator"}, headers=rid("member"))
    done.append("member")
    other = await admin.json("POST", "/accounts", 201, json={"name": "ops", "namespace": "ops"})
    return done, int(other["account"]["id"])


async def test_filters_keep_the_entries_that_match_each(
    start_asgard: StartAsgard, db_url: str
) -> None:
    async with audited_site(start_asgard, db_url) as site:
        _, other_id = await some_writes(site)
        every = (await site.entries())["entries"]
        assert len(every) == 6

        def ids(answer: dict[str, Any]) -> list[str]:
            return [e["request_id"] for e in answer["entries"]]

        assert ids(await site.entries(action="delete")) == ["delete-two"]
        assert ids(await site.entries(resource="membership")) == ["member"]
        assert len(ids(await site.entries(resource="app", action="create"))) == 3
        assert len(ids(await site.entries(cluster="k8s"))) == 4
        assert ids(await site.entries(user=site.admin.user.id))[1:] == ["member"]
        assert len(ids(await site.entries(account_id=site.dev.id))) == 5
        other = await site.entries(account_id=other_id)
        assert [e["action"] for e in other["entries"]] == ["create"]
        order = [e["request_id"] for e in every]  # newest first
        assert order[1:] == ["member", "delete-two", "create-three", "create-two", "create-one"]
        two, three, delete = every[4]["at"], every[3]["at"], every[2]["at"]
        assert ids(await site.entries(since=two)) == order[:5], "since is inclusive"
        assert ids(await site.entries(until=two)) == ["create-one"], "until is not"
        assert ids(await site.entries(since=three, until=every[1]["at"])) == order[2:4]
        offset = delete.replace("Z", "+00:00")
        assert ids(await site.entries(since=offset)) == order[:3], "any RFC 3339 zone"
        assert (await site.entries(cluster="elsewhere"))["total"] == 0


async def test_pages_are_newest_first_and_neither_skip_nor_repeat(
    start_asgard: StartAsgard, db_url: str
) -> None:
    async with audited_site(start_asgard, db_url) as site:
        done, _ = await some_writes(site)
        seen: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            query: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            page = await site.entries(**query)
            assert page["total"] >= 6, "every entry, the newer ones included"
            assert len(page["entries"]) <= 2
            seen += page["entries"]
            cursor = page["next_cursor"]
            if cursor is None:
                break
            await site.operator.json("POST", "/clusters/k8s/apps/one/restart")  # newer: not here
        assert len(seen) == 6, "the entries that were there when the first page was read"
        assert [e["request_id"] for e in seen][1:] == list(reversed(done))
        assert seen[0]["resource"] == "account"


async def test_account_admins_read_their_accounts_and_administrators_all(
    start_asgard: StartAsgard, db_url: str
) -> None:
    async with audited_site(start_asgard, db_url) as site:
        _, other_id = await some_writes(site)
        mine = await site.entries(site.owner)
        assert mine["total"] == 5
        assert {e["account"] for e in mine["entries"]} == {site.dev.id}
        assert (await site.entries(site.owner, account_id=site.dev.id))["total"] == 5
        refused = await site.owner.get("/audit", params={"account_id": str(other_id)})
        assert refused.status == 403
        assert (await refused.json())["errors"][0]["field"] == "account_id"
        for who in (site.operator, site.viewer):
            answer = await who.get("/audit")
            assert answer.status == 403, await answer.text()
        assert (await site.entries(site.admin))["total"] == 6
        # an administrator filters by any account, member or not
        assert (await site.entries(site.admin, account_id=other_id))["total"] == 1
        # an admin of two accounts reads both
        await site.asgard.services.accounts.put_member(
            SYSTEM, other_id, site.owner.user.id, Role.ADMIN
        )
        await site.admin.json("PATCH", f"/accounts/{other_id}", json={"name": "ops2"})
        both = await site.entries(site.owner)
        assert {e["account"] for e in both["entries"]} == {site.dev.id, other_id}


async def test_bad_filters_are_422_naming_the_field(start_asgard: StartAsgard, db_url: str) -> None:
    async with audited_site(start_asgard, db_url) as site:
        bad = {
            "since": "yesterday",
            "until": "2026-01-01T00:00:00",  # no zone: which time is meant?
            "user": "someone",
            "account_id": str(2**40),
            "resource": "Robert'); DROP TABLE audit_log;--",
            "action": "",
            "cluster": "no such/cluster",
            "cursor": "not-a-cursor",
            "limit": "0",
        }
        for name, value in [*bad.items(), ("until", "0.5"), ("cursor", "not a cursor!")]:
            answer = await site.admin.get("/audit", params={name: value})
            assert answer.status == 422, f"{name}={value}: {answer.status}"
            assert (await answer.json())["errors"][0]["field"] == name
        backwards = {"since": "2026-12-01T10:00:00Z", "until": "2026-12-01T09:00:00Z"}
        answer = await site.admin.get("/audit", params=backwards)
        assert answer.status == 422
        assert (await answer.json())["errors"][0]["field"] == "until"
