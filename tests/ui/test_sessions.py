"""Dashboard sessions: a key exchanged for a cookie, expiry, logout, accounts, CSRF."""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from asgard.db.tables import UiSessionRow
from asgard.http.sessions import COOKIE, CSRF_HEADER
from asgard.models import Account, Role
from asgard.ui.assets import STATIC_DIR, static_url
from tests.conftest import StartAsgard
from tests.support.asgard import AsgardUnderTest, Caller
from tests.support.watching import eventually
from tests.ui.ui_client import Browser, browser, login

APP = {"cluster": "c1", "id": "web", "image": "nginx"}


@pytest.fixture
async def asgard(start_asgard: StartAsgard, db_url: str) -> AsgardUnderTest:
    return await start_asgard(db_url=db_url, auth_failure_limit=3)


@pytest.fixture
async def team(asgard: AsgardUnderTest) -> Account:
    return await asgard.account("team")


@pytest.fixture
async def viewer(asgard: AsgardUnderTest, team: Account) -> Caller:
    return await asgard.caller("viewer@example.com", roles={team.id: Role.VIEWER})


@pytest.fixture
async def operator(asgard: AsgardUnderTest, team: Account) -> Caller:
    return await asgard.caller("operator@example.com", roles={team.id: Role.OPERATOR})


async def test_the_login_form_is_served_without_a_session(asgard: AsgardUnderTest) -> None:
    response = await asgard.client.get("/ui/login")
    assert response.status == 200
    text = await response.text()
    assert 'name="key"' in text
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]


async def test_a_good_key_sets_an_httponly_strict_cookie(
    asgard: AsgardUnderTest, viewer: Caller
) -> None:
    response, token = await login(asgard.client, viewer.key)
    assert response.status == 303
    assert response.headers["Location"] == "/ui/"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert "Path=/" in cookie
    assert "Secure" not in cookie, "plain HTTP: a Secure cookie would never come back"
    async with asgard.db.session() as session:
        hashes = list(await session.scalars(select(UiSessionRow.token_hash)))
    assert hashes == [hashlib.sha256(token.encode()).hexdigest()], "only the hash is kept"
    assert "Fleet" in await Browser(asgard.client, token).page("/ui/")


async def test_a_login_another_site_sent_is_refused(
    asgard: AsgardUnderTest, viewer: Caller
) -> None:
    """Login CSRF: a page elsewhere posting its own key would log the reader in as it."""
    response, _ = await login(asgard.client, viewer.key, **{"Sec-Fetch-Site": "cross-site"})
    assert response.status == 403
    assert "Set-Cookie" not in response.headers
    assert "another site" in await response.text()
    same, _ = await login(asgard.client, viewer.key, **{"Sec-Fetch-Site": "same-origin"})
    assert same.status == 303


async def test_behind_a_trusted_https_proxy_the_cookie_is_secure(
    start_asgard: StartAsgard, db_url: str
) -> None:
    asgard = await start_asgard(db_url=db_url, trust_proxy=True)
    viewer = await asgard.caller(
        "v@example.com", roles={(await asgard.account("t")).id: Role.VIEWER}
    )
    response, _ = await login(asgard.client, viewer.key, **{"X-Forwarded-Proto": "https"})
    assert "Secure" in response.headers["Set-Cookie"]


async def test_an_untrusted_forwarded_proto_does_not_make_the_cookie_secure(
    asgard: AsgardUnderTest, viewer: Caller
) -> None:
    """Without ASGARD_TRUST_PROXY, any client could send the header: it is ignored."""
    response, _ = await login(asgard.client, viewer.key, **{"X-Forwarded-Proto": "https"})
    assert response.status == 303
    assert "Secure" not in response.headers["Set-Cookie"]


async def test_a_wrong_key_is_refused_with_401_and_no_cookie(
    asgard: AsgardUnderTest, viewer: Caller
) -> None:
    response, token = await login(asgard.client, viewer.key + "x")
    assert response.status == 401
    assert token == ""
    assert "Set-Cookie" not in response.headers
    assert "not valid" in await response.text()


async def test_wrong_keys_are_throttled_like_the_api(asgard: AsgardUnderTest) -> None:
    statuses = [(await login(asgard.client, "asg_nothing_here"))[0].status for _ in range(5)]
    assert statuses[:3] == [401, 401, 401]
    assert statuses[3:] == [429, 429]


async def test_without_a_session_a_page_sends_you_to_the_login(asgard: AsgardUnderTest) -> None:
    response = await asgard.client.get("/ui/apps?cluster=a&kind=docker", allow_redirects=False)
    assert response.status == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/ui/login"
    assert parse_qs(location.query) == {"next": ["/ui/apps?cluster=a&kind=docker"]}


async def test_an_expired_session_sends_you_to_the_login(
    start_asgard: StartAsgard, db_url: str
) -> None:
    asgard = await start_asgard(db_url=db_url, session_ttl_s=1)
    team = await asgard.account("team")
    viewer = await asgard.caller("v@example.com", roles={team.id: Role.VIEWER})
    session = await browser(viewer)
    await session.page("/ui/")

    async def expired() -> bool:
        return (await session.request("GET", "/ui/")).status != 200

    await eventually(expired, "the session expires", 10)
    response = await session.request("GET", "/ui/")
    assert response.status == 302
    assert response.headers["Location"].startswith("/ui/login")
    assert (await session.request("GET", "/users/me")).status == 401


async def test_logout_ends_the_session_at_once(asgard: AsgardUnderTest, viewer: Caller) -> None:
    session = await browser(viewer)
    assert (await session.request("GET", "/users/me")).status == 200
    csrf = await session.csrf()
    response = await session.request("POST", "/ui/logout", data={"csrf_token": csrf})
    assert response.status == 303
    assert response.headers["Location"] == "/ui/login"
    assert f'{COOKIE}=""' in response.headers["Set-Cookie"]
    assert (await session.request("GET", "/ui/")).status == 302
    assert (await session.request("GET", "/users/me")).status == 401
    async with asgard.db.session() as db:
        assert list(await db.scalars(select(UiSessionRow.id))) == []


async def test_the_account_switcher_changes_the_sessions_account(
    asgard: AsgardUnderTest, team: Account
) -> None:
    other = await asgard.account("other")
    elsewhere = await asgard.account("elsewhere")
    both = await asgard.caller(
        "both@example.com", roles={team.id: Role.VIEWER, other.id: Role.OPERATOR}
    )
    session = await browser(both)
    me = await (await session.request("GET", "/users/me")).json()
    assert me["current_account"]["id"] == team.id
    page = await session.page("/ui/")
    assert 'id="account-select"' in page
    csrf = await session.csrf()
    response = await session.request(
        "POST",
        "/ui/account",
        data={"csrf_token": csrf, "account_id": str(other.id), "next": "/ui/apps"},
    )
    assert response.status == 303
    assert response.headers["Location"] == "/ui/apps"
    me = await (await session.request("GET", "/users/me")).json()
    assert me["current_account"]["id"] == other.id
    refused = await session.request(
        "POST", "/ui/account", data={"csrf_token": csrf, "account_id": str(elsewhere.id)}
    )
    assert refused.status == 403
    me = await (await session.request("GET", "/users/me")).json()
    assert me["current_account"]["id"] == other.id


async def test_a_ui_post_without_its_csrf_token_is_403(
    asgard: AsgardUnderTest, viewer: Caller
) -> None:
    session = await browser(viewer)
    for data in ({}, {"csrf_token": "0" * 64}):
        response = await session.request("POST", "/ui/logout", data=data)
        assert response.status == 403
        assert response.content_type == "text/html", "a page, not the API's JSON"
        assert "a write made with the session cookie needs its CSRF token" in await response.text()
    assert (await session.request("GET", "/users/me")).status == 200, "still logged in"


async def test_a_dashboard_path_that_does_not_exist_is_a_404_page(
    asgard: AsgardUnderTest, viewer: Caller
) -> None:
    session = await browser(viewer)
    response = await session.request("GET", "/ui/no-such-page")
    assert response.status == 404
    assert response.content_type == "text/html"
    text = await response.text()
    assert "Not found" in text
    assert 'href="/ui/"' in text, "with the way back"
    api = await session.request("GET", "/no-such-route")
    assert api.content_type == "application/json", "the API's answers stay JSON"


async def test_an_api_write_with_the_cookie_needs_the_csrf_header(
    asgard: AsgardUnderTest, operator: Caller
) -> None:
    session = await browser(operator)
    csrf = await session.csrf()
    for headers in ({}, {CSRF_HEADER: "f" * 64}):
        response = await session.request("POST", "/apps", json=APP, headers=headers)
        assert response.status == 403, await response.text()
        assert "CSRF" in (await response.json())["errors"][0]["msg"]
    allowed = await session.request("POST", "/apps", json=APP, headers={CSRF_HEADER: csrf})
    assert allowed.status not in (401, 403), "past authentication: the cluster is unknown"


async def test_a_viewers_forged_write_is_403_even_with_the_token(
    asgard: AsgardUnderTest, viewer: Caller
) -> None:
    session = await browser(viewer)
    csrf = await session.csrf()
    response = await session.request("POST", "/apps", json=APP, headers={CSRF_HEADER: csrf})
    assert response.status == 403
    assert "role 'viewer'" in (await response.json())["errors"][0]["msg"]


async def test_the_cookie_authenticates_reads_of_the_api(
    asgard: AsgardUnderTest, viewer: Caller
) -> None:
    session = await browser(viewer)
    me = await (await session.request("GET", "/users/me")).json()
    assert me["user"]["email"] == "viewer@example.com"
    forged = Browser(asgard.client, "not-a-session")
    assert (await forged.request("GET", "/users/me")).status == 401


async def test_root_redirects_to_the_dashboard(asgard: AsgardUnderTest) -> None:
    response = await asgard.client.get("/", allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"] == "/ui/"


async def test_static_files_have_a_long_cache_and_the_csp(asgard: AsgardUnderTest) -> None:
    response = await asgard.client.get("/ui/static/asgard.css")
    assert response.status == 200
    assert "max-age=31536000" in response.headers["Cache-Control"]
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


async def test_pages_name_asgards_own_files_by_their_content(
    asgard: AsgardUnderTest, viewer: Caller
) -> None:
    """Kept for a year, a file is asked again only under a new URL: one with the digest of
    what it holds, so a release's fix to asgard.js reaches browsers that had the old one."""
    async with asgard.client.post(
        "/ui/login", data={"key": viewer.key, "next": "/ui/"}, allow_redirects=False
    ) as login:
        assert login.status == 303
    page = await (await asgard.client.get("/ui/")).text()
    for name in ("asgard.js", "asgard.css", "favicon.svg"):
        url = static_url(name)
        digest = hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:12]
        assert url == f"/ui/static/{name}?v={digest}"
        assert f'"{url}"' in page, name
        served = await asgard.client.get(url)
        assert served.status == 200
        assert await served.read() == (STATIC_DIR / name).read_bytes()
    assert '"/ui/static/asgard.js"' not in page


async def test_after_login_only_a_dashboard_path_is_followed(
    asgard: AsgardUnderTest, viewer: Caller
) -> None:
    for given, expected in (
        ("/ui/jobs?state=failed", "/ui/jobs?state=failed"),
        ("https://evil.example/", "/ui/"),
        ("//evil.example/ui", "/ui/"),
        ("/users/me", "/ui/"),
    ):
        asgard.client.session.cookie_jar.clear()
        response = await asgard.client.post(
            "/ui/login", data={"key": viewer.key, "next": given}, allow_redirects=False
        )
        assert response.status == 303
        assert response.headers["Location"] == expected, given
