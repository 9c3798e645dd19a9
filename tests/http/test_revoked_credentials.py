"""A JWT or a dashboard session made from an API key ends with that key, on SQLite and
PostgreSQL; another key of the same user goes on."""

from __future__ import annotations

from datetime import timedelta

import jwt
from sqlalchemy import select

from asgard.db.tables import UiSessionRow
from asgard.models import Role
from asgard.models.base import utc_now
from tests.conftest import TEST_SECRET_KEY, StartAsgard
from tests.support.asgard import AsgardUnderTest, Caller
from tests.ui.ui_client import browser


async def second_key(asgard: AsgardUnderTest, caller: Caller) -> Caller:
    """The same user with another key: what revokes the first."""
    key = await asgard.services.auth.create_key(caller.user.id, "second")
    return Caller(caller.client, caller.user, key.key)


async def status(caller: Caller, headers: dict[str, str]) -> int:
    response = await caller.client.get("/users/me", headers=headers)
    await response.read()
    return response.status


async def test_a_jwt_and_a_session_made_from_a_key_are_refused_once_it_is_revoked(
    start_asgard: StartAsgard, db_url: str
) -> None:
    asgard = await start_asgard(db_url=db_url, auth_cache_s=60)
    account = await asgard.account("dev")
    dev = await asgard.caller("dev@example.com", roles={account.id: Role.OPERATOR})
    other = await second_key(asgard, dev)
    made = (await dev.json("GET", f"/accounts/{account.id}/auth"))["jwt"]
    bearer = {"Authorization": f"Bearer {made}"}
    from_jwt = (await dev.json("GET", f"/accounts/{account.id}/auth", headers=bearer))["jwt"]
    from_other = (await other.json("GET", f"/accounts/{account.id}/auth"))["jwt"]
    session = await browser(dev)
    assert await status(dev, bearer) == 200
    assert await status(dev, {"Authorization": f"Bearer {from_jwt}"}) == 200
    assert (await session.request("GET", "/users/me")).status == 200

    keys = (await other.json("GET", "/users/me/tokens"))["tokens"]
    first = next(k["id"] for k in keys if k["name"] == "test")
    await other.json("DELETE", f"/users/me/tokens/{first}", status=204)

    assert await status(dev, dev.headers) == 401
    assert await status(dev, bearer) == 401
    refused = await dev.client.get("/users/me", headers=bearer)
    assert "revoked" in (await refused.json())["errors"][0]["msg"]
    assert await status(dev, {"Authorization": f"Bearer {from_jwt}"}) == 401, "made from it too"
    assert (await session.request("GET", "/users/me")).status == 401
    assert (await session.request("GET", "/ui/")).status == 302, "off to the login page"
    async with asgard.db.session() as db:
        assert list(await db.scalars(select(UiSessionRow.id))) == [], "the row went with it"
    assert await status(other, other.headers) == 200, "the user's other key goes on"
    assert await status(other, {"Authorization": f"Bearer {from_other}"}) == 200


async def test_a_jwt_that_names_no_key_is_refused(start_asgard: StartAsgard) -> None:
    """A JWT made before JWTs named their key could outlive it: it is refused."""
    asgard = await start_asgard()
    account = await asgard.account("dev")
    dev = await asgard.caller("dev@example.com", roles={account.id: Role.VIEWER})
    now = utc_now()
    claims = {"iss": "asgard", "sub": str(dev.user.id), "acc": account.id, "iat": now}
    old = jwt.encode({**claims, "exp": now + timedelta(hours=1)}, TEST_SECRET_KEY, "HS256")
    assert await status(dev, {"Authorization": f"Bearer {old}"}) == 401
    for key in ("x", True, None):
        odd = jwt.encode(
            {**claims, "key": key, "exp": now + timedelta(hours=1)}, TEST_SECRET_KEY, "HS256"
        )
        assert await status(dev, {"Authorization": f"Bearer {odd}"}) == 401, key


async def test_a_jwt_made_from_someone_elses_key_id_is_refused(
    start_asgard: StartAsgard,
) -> None:
    """The key a JWT names must be its user's: signing is what makes the claims true, and
    the check says the key still is."""
    asgard = await start_asgard()
    account = await asgard.account("dev")
    dev = await asgard.caller("dev@example.com", roles={account.id: Role.VIEWER})
    ops = await asgard.caller("ops@example.com", roles={account.id: Role.VIEWER})
    theirs = (await ops.json("GET", "/users/me/tokens"))["tokens"][0]["id"]
    user = await asgard.services.auth.user(dev.user.id)
    forged = asgard.services.auth.issue_jwt(user, account, theirs)
    assert await status(dev, {"Authorization": f"Bearer {forged}"}) == 401


async def test_a_session_and_a_jwt_end_with_their_user(
    start_asgard: StartAsgard, db_url: str
) -> None:
    asgard = await start_asgard(db_url=db_url, auth_cache_s=60)
    account = await asgard.account("dev")
    admin = await asgard.caller("root@example.com", admin=True)
    dev = await asgard.caller("dev@example.com", roles={account.id: Role.VIEWER})
    made = (await dev.json("GET", f"/accounts/{account.id}/auth"))["jwt"]
    session = await browser(dev)
    await admin.json("DELETE", f"/users/{dev.user.id}", status=204)
    assert await status(dev, {"Authorization": f"Bearer {made}"}) == 401
    assert (await session.request("GET", "/users/me")).status == 401
