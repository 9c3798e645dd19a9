"""Authentication, accounts and roles, on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import event, select

from asgard.db.tables import ApiKeyRow
from asgard.http.throttle import FailureThrottle
from asgard.models import Role
from tests.conftest import StartAsgard
from tests.support.asgard import AsgardUnderTest, Caller
from tests.support.watching import eventually


@pytest.fixture
async def asgard(start_asgard: StartAsgard, db_url: str) -> AsgardUnderTest:
    return await start_asgard(db_url=db_url)


async def test_no_credentials_is_401(asgard: AsgardUnderTest) -> None:
    response = await asgard.client.get("/agents")
    assert response.status == 401
    body = await response.json()
    assert body["errors"][0]["msg"]
    assert "WWW-Authenticate" in response.headers


@pytest.mark.parametrize(
    "header",
    [
        "Token asg_nope_nope",
        "Token not-even-a-key",
        "Bearer not.a.jwt",
        "JWT eyJhbGciOiJIUzI1NiJ9.e30.x",
        "Basic dXNlcjpwYXNz",
        "Token",
    ],
)
async def test_wrong_credentials_are_401(asgard: AsgardUnderTest, header: str) -> None:
    response = await asgard.client.get("/agents", headers={"Authorization": header})
    assert response.status == 401
    assert (await response.json())["errors"]


async def test_a_revoked_key_stops_working(asgard: AsgardUnderTest) -> None:
    account = await asgard.account("dev")
    caller = await asgard.caller("dev@example.com", roles={account.id: Role.VIEWER})
    assert (await caller.get("/users/me")).status == 200
    keys = await caller.json("GET", "/users/me/tokens")
    await caller.json("DELETE", f"/users/me/tokens/{keys['tokens'][0]['id']}", status=204)
    assert (await caller.get("/users/me")).status == 401


async def test_api_keys_are_stored_hashed_and_shown_once(asgard: AsgardUnderTest) -> None:
    caller = await asgard.caller("keys@example.com")
    created = await caller.json("POST", "/users/me/tokens", status=201, json={"name": "ci"})
    key = created["token"]["key"]
    assert key.startswith("asg_")

    async with asgard.db.session() as session:
        stored = (await session.scalars(select(ApiKeyRow))).all()
    assert stored, "keys are stored"
    for row in stored:
        assert key not in (row.key_hash, row.prefix, row.name)
        assert len(row.key_hash) == 64
    assert key.split("_", 2)[2] not in str([(r.key_hash, r.prefix) for r in stored])

    listed = await caller.json("GET", "/users/me/tokens")
    assert all("key" not in t for t in listed["tokens"])
    assert "ci" in [t["name"] for t in listed["tokens"]]
    new_caller = Caller(asgard.client, caller.user, key)
    assert (await new_caller.get("/users/me")).status == 200


async def test_a_member_of_one_account_asking_for_another_is_403(asgard: AsgardUnderTest) -> None:
    a = await asgard.account("team-a")
    b = await asgard.account("team-b")
    caller = await asgard.caller("a@example.com", roles={a.id: Role.OPERATOR})
    assert (await caller.get(f"/agents?account_id={a.id}")).status == 200
    response = await caller.get(f"/agents?account_id={b.id}")
    assert response.status == 403
    assert (await response.json())["errors"][0]["msg"]
    assert (await caller.get("/agents?account_id=99999")).status == 403
    assert (await caller.get(f"/accounts/{b.id}")).status == 403
    assert (await caller.get(f"/accounts/{b.id}/auth")).status == 403


async def test_account_id_must_be_an_integer(asgard: AsgardUnderTest) -> None:
    caller = await asgard.caller("n@example.com")
    response = await caller.get("/agents?account_id=abc")
    assert response.status == 422
    assert (await response.json())["errors"][0]["field"] == "account_id"


async def test_a_user_with_no_account_cannot_read_clusters(asgard: AsgardUnderTest) -> None:
    caller = await asgard.caller("lonely@example.com")
    assert (await caller.get("/agents")).status == 403
    me = await caller.json("GET", "/users/me")
    assert me["current_account"] is None
    assert me["accounts"] == []


async def test_jwt_scoped_to_an_account(asgard: AsgardUnderTest) -> None:
    a = await asgard.account("first")
    b = await asgard.account("second")
    caller = await asgard.caller("multi@example.com", roles={a.id: Role.VIEWER, b.id: Role.ADMIN})

    me = await caller.json("GET", "/users/me")
    assert me["current_account"]["id"] == a.id, "the first account is the default"
    assert {x["id"]: x["role"] for x in me["accounts"]} == {a.id: "viewer", b.id: "admin"}

    token = (await caller.json("GET", f"/accounts/{b.id}/auth"))["jwt"]
    for scheme in ("Bearer", "JWT"):
        response = await asgard.client.get(
            "/users/me", headers={"Authorization": f"{scheme} {token}"}
        )
        assert response.status == 200
        assert (await response.json())["current_account"]["id"] == b.id
    overridden = await asgard.client.get(
        f"/users/me?account_id={a.id}", headers={"Authorization": f"Bearer {token}"}
    )
    assert (await overridden.json())["current_account"]["id"] == a.id


async def test_an_expired_or_forged_jwt_is_401(start_asgard: StartAsgard) -> None:
    asgard = await start_asgard(jwt_ttl_s=1)
    account = await asgard.account("dev")
    caller = await asgard.caller("t@example.com", roles={account.id: Role.VIEWER})
    token = (await caller.json("GET", f"/accounts/{account.id}/auth"))["jwt"]
    head, claims, signature = token.split(".")
    forged = f"{head}.{claims}.{signature[::-1]}"
    assert (
        await asgard.client.get("/users/me", headers={"Authorization": f"Bearer {forged}"})
    ).status == 401

    async def refused() -> bool:
        answer = await asgard.client.get("/users/me", headers={"Authorization": f"Bearer {token}"})
        return answer.status != 200

    await eventually(refused, "the JWT expires", 10)
    expired = await asgard.client.get("/users/me", headers={"Authorization": f"Bearer {token}"})
    assert expired.status == 401
    assert "expired" in (await expired.json())["errors"][0]["msg"]


async def test_viewers_read_but_do_not_write(asgard: AsgardUnderTest) -> None:
    account = await asgard.account("dev")
    viewer = await asgard.caller("viewer@example.com", roles={account.id: Role.VIEWER})
    assert (await viewer.get("/apps")).status == 200
    spec = {"cluster": "nowhere", "id": "web", "image": "busybox"}
    response = await viewer.post("/apps", json=spec)
    assert response.status == 403
    assert "operator" in (await response.json())["errors"][0]["msg"]


async def test_members_are_managed_by_account_admins(asgard: AsgardUnderTest) -> None:
    account = await asgard.account("dev")
    admin = await asgard.caller("boss@example.com", roles={account.id: Role.ADMIN})
    operator = await asgard.caller("op@example.com", roles={account.id: Role.OPERATOR})
    newcomer = await asgard.caller("new@example.com")

    denied = await operator.put(
        f"/accounts/{account.id}/users/{newcomer.user.id}", json={"role": "viewer"}
    )
    assert denied.status == 403

    added = await admin.json(
        "PUT", f"/accounts/{account.id}/users/{newcomer.user.id}", json={"role": "operator"}
    )
    assert added["user"]["role"] == "operator"
    members = await operator.json("GET", f"/accounts/{account.id}/users")
    assert {m["email"]: m["role"] for m in members["users"]} == {
        "boss@example.com": "admin",
        "op@example.com": "operator",
        "new@example.com": "operator",
    }
    await admin.json("DELETE", f"/accounts/{account.id}/users/{newcomer.user.id}", status=204)
    assert (await newcomer.get(f"/accounts/{account.id}")).status == 403
    gone = await admin.delete(f"/accounts/{account.id}/users/{newcomer.user.id}")
    assert gone.status == 404


async def test_only_administrators_manage_users_and_accounts(asgard: AsgardUnderTest) -> None:
    account = await asgard.account("dev")
    member = await asgard.caller("member@example.com", roles={account.id: Role.ADMIN})
    root = await asgard.caller("root@example.com", admin=True)

    assert (await member.get("/users")).status == 403
    assert (await member.post("/users", json={"name": "x", "email": "x@example.com"})).status == 403
    assert (await member.post("/accounts", json={"name": "x", "namespace": "x"})).status == 403
    assert (await member.patch(f"/users/{member.user.id}", json={"is_admin": True})).status == 403
    assert (await member.get(f"/users/{root.user.id}")).status == 403

    created = await root.json(
        "POST", "/users", status=201, json={"name": "Ann", "email": "Ann@Example.com"}
    )
    assert created["user"]["email"] == "ann@example.com"
    duplicate = await root.post("/users", json={"name": "Ann", "email": "ann@example.com"})
    assert duplicate.status == 409

    new_account = await root.json(
        "POST",
        "/accounts",
        status=201,
        json={"name": "payments", "namespace": "payments", "owner": "pay"},
    )
    assert new_account["account"]["owner"] == "pay"
    taken = await root.post("/accounts", json={"name": "other", "namespace": "payments"})
    assert taken.status == 409

    users = await root.json("GET", "/users")
    assert {u["email"] for u in users["users"]} == {
        "admin@asgard.local",  # created by Asgard on its first start
        "member@example.com",
        "root@example.com",
        "ann@example.com",
    }
    assert users["total"] == 4
    accounts = await root.json("GET", "/accounts")
    assert {a["name"] for a in accounts["accounts"]} == {"default", "dev", "payments"}
    assert [a["name"] for a in (await member.json("GET", "/accounts"))["accounts"]] == ["dev"]

    patched = await root.json("PATCH", f"/accounts/{account.id}", json={"owner": "team-x"})
    assert patched["account"]["owner"] == "team-x"
    renamed = await member.json("PATCH", f"/users/{member.user.id}", json={"name": "Renamed"})
    assert renamed["user"]["name"] == "Renamed"

    await root.json("DELETE", f"/users/{created['user']['id']}", status=204)
    assert (await root.get(f"/users/{created['user']['id']}")).status == 404
    await root.json("DELETE", f"/accounts/{new_account['account']['id']}", status=204)
    assert (await root.get(f"/accounts/{new_account['account']['id']}")).status == 404


async def test_the_last_administrator_stays(asgard: AsgardUnderTest) -> None:
    # Asgard created its own first administrator on start; remove it so `root` is the only one.
    root = await asgard.caller("root@example.com", admin=True)
    for user in (await root.json("GET", "/users"))["users"]:
        if user["id"] != root.user.id:
            await root.json("DELETE", f"/users/{user['id']}", status=204)
    assert (await root.delete(f"/users/{root.user.id}")).status == 409
    assert (await root.patch(f"/users/{root.user.id}", json={"is_admin": False})).status == 409


async def test_first_start_creates_an_administrator_with_a_working_key(
    start_asgard: StartAsgard,
) -> None:
    asgard = await start_asgard()
    first = await asgard.services.users.by_email("admin@asgard.local")
    assert first is not None
    assert first.is_admin
    from asgard.services.bootstrap import bootstrap

    assert await bootstrap(asgard.db, asgard.services.auth, "x@example.com") is None


async def test_lists_of_users_page_through_everything(asgard: AsgardUnderTest) -> None:
    root = await asgard.caller("root@example.com", admin=True)
    for n in range(7):
        await asgard.caller(f"user{n}@example.com")
    seen: list[int] = []
    cursor = None
    while True:
        query = "/users?limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = await root.json("GET", query)
        assert page["total"] == 9  # with the administrator of the first start
        seen += [u["id"] for u in page["users"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 9
    assert seen == sorted(set(seen))
    bad = await root.get("/users?cursor=not-a-cursor")
    assert bad.status == 422
    assert (await bad.json())["errors"][0]["field"] == "cursor"


async def test_credentials_are_read_once_then_kept_off_the_database(
    asgard: AsgardUnderTest,
) -> None:
    account = await asgard.account("dev")
    caller = await asgard.caller("hot@example.com", roles={account.id: Role.VIEWER})
    assert (await caller.get("/agents")).status == 200  # read once, and kept
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        # Only what authenticating reads (a key, its user, the user's memberships joined with
        # their accounts): background loops (a lease renewed, the reconciler reading every
        # account) may run meanwhile.
        if any(table in statement for table in ("api_keys", "users", "memberships")):
            statements.append(statement)

    engine = asgard.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        for _ in range(20):
            assert (await caller.get("/agents")).status == 200
            assert (await caller.get(f"/agents?account_id={account.id}")).status == 200
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert statements == [], "no request read the database to authenticate"


async def test_a_change_in_another_process_takes_effect_within_the_cache_time(
    start_asgard: StartAsgard, db_url: str
) -> None:
    first = await start_asgard(db_url=db_url, auth_cache_s=1)
    second = await start_asgard(db_url=db_url, auth_cache_s=1)
    account = await first.account("dev")
    here = await first.caller("two@example.com", roles={account.id: Role.OPERATOR})
    there = Caller(second.client, here.user, here.key)
    assert (await there.get("/users/me")).status == 200  # the second process keeps it now

    keys = await here.json("GET", "/users/me/tokens")
    await here.json("DELETE", f"/users/me/tokens/{keys['tokens'][0]['id']}", status=204)
    assert (await here.get("/users/me")).status == 401, "at once where it was revoked"
    revoked_at = time.monotonic()
    while (await there.get("/users/me")).status == 200:
        assert time.monotonic() - revoked_at < 1.5, "and within the cache time elsewhere"
        await asyncio.sleep(0.05)


async def test_a_key_that_matches_nothing_is_not_remembered(asgard: AsgardUnderTest) -> None:
    for n in range(50):
        response = await asgard.client.get(
            "/agents", headers={"Authorization": f"Token asg_guess{n:05d}_not-a-secret-at-all"}
        )
        assert response.status in (401, 429)  # told to wait after the first twenty
    assert asgard.services.auth.cache.keys.items == {}


async def test_repeated_bad_credentials_are_slowed_down_but_good_keys_pass(
    start_asgard: StartAsgard,
) -> None:
    asgard = await start_asgard(auth_failure_limit=3)
    account = await asgard.account("dev")
    good = await asgard.caller("good@example.com", roles={account.id: Role.VIEWER})
    bad = {"Authorization": "Token asg_guessing00_not-the-right-secret-at-all"}
    statuses = [(await asgard.client.get("/agents", headers=bad)).status for _ in range(5)]
    assert statuses == [401, 401, 401, 429, 429]
    refused = await asgard.client.get("/agents", headers=bad)
    assert refused.status == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "try again" in (await refused.json())["errors"][0]["msg"]
    assert (await good.get("/agents")).status == 200, "a good key from the same address passes"
    assert (await asgard.client.get("/agents")).status == 401, "no credentials is not guessing"


def test_the_throttle_forgets_an_address_once_its_failures_are_old() -> None:
    throttle = FailureThrottle(limit=2, window_s=0.2)
    assert [throttle.failed("a") for _ in range(2)] == [None, None]
    assert throttle.failed("a") is not None
    assert throttle.failed("b") is None, "another address is not held back"
    time.sleep(0.25)
    assert throttle.failed("a") is None
