"""What answers tell caches and browsers (no-store, HSTS), and /metrics behind its token."""

from __future__ import annotations

import ssl
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from asgard.backends.orchestrator import Orchestrator
from asgard.client import AsgardClient
from asgard.http.security_headers import HSTS
from asgard.models import Role
from asgard.server import create_app
from tests.conftest import StartAsgard, make_settings
from tests.support.asgard import AsgardUnderTest, Caller
from tests.ui.ui_client import browser, login

METRICS_TOKEN = "metrics-token-for-the-scraper-only"


@pytest.fixture
async def asgard(start_asgard: StartAsgard) -> AsgardUnderTest:
    return await start_asgard()


@pytest.fixture
async def operator(asgard: AsgardUnderTest) -> Caller:
    team = await asgard.account("team")
    return await asgard.caller("op@example.com", roles={team.id: Role.OPERATOR})


async def test_a_new_api_key_is_answered_with_no_store(operator: Caller) -> None:
    response = await operator.post("/users/me/tokens", json={"name": "ci"})
    assert response.status == 201
    assert (await response.json())["token"]["key"].startswith("asg_")
    assert response.headers["Cache-Control"] == "no-store"


async def test_an_account_jwt_is_answered_with_no_store(
    asgard: AsgardUnderTest, operator: Caller
) -> None:
    accounts = await operator.json("GET", "/accounts")
    account_id = accounts["accounts"][0]["id"]
    response = await operator.get(f"/accounts/{account_id}/auth")
    assert response.status == 200
    assert (await response.json())["jwt"]
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/users/me"),
        ("GET", "/users/me/tokens"),
        ("GET", "/agents"),
        ("GET", "/clusters"),
        ("GET", "/no/such/route"),
        ("POST", "/users/me/tokens"),  # no body: an error answer
    ],
)
async def test_every_api_answer_is_no_store(operator: Caller, method: str, path: str) -> None:
    """The rule is general, errors included: a route added later carrying a secret is
    covered without being listed anywhere."""
    response = await operator.request(method, path)
    assert response.headers["Cache-Control"] == "no-store", (method, path, response.status)


async def test_a_refused_request_is_no_store_too(asgard: AsgardUnderTest) -> None:
    response = await asgard.client.get("/users/me")
    assert response.status == 401
    assert response.headers["Cache-Control"] == "no-store"


async def test_the_events_stream_is_no_store(operator: Caller) -> None:
    response = await operator.get("/events")
    try:
        assert response.status == 200
        assert response.headers["Cache-Control"] == "no-store"
    finally:
        response.close()


async def test_dashboard_pages_are_no_store_and_static_files_stay_cacheable(
    asgard: AsgardUnderTest, operator: Caller
) -> None:
    """A page carries the session's CSRF token and one tenant's data; a vendored file
    names its version in its path and may be kept a year."""
    session = await browser(operator)
    page = await session.request("GET", "/ui/")
    assert page.status == 200
    assert page.headers["Cache-Control"] == "no-store"
    login_page = await asgard.client.get("/ui/login")
    assert login_page.headers["Cache-Control"] == "no-store"
    static = await asgard.client.get("/ui/static/asgard.css")
    assert static.status == 200
    assert static.headers["Cache-Control"] == "public, max-age=31536000, immutable"


async def test_plain_http_gets_no_hsts_whatever_it_claims(
    asgard: AsgardUnderTest, operator: Caller
) -> None:
    """Without ASGARD_TRUST_PROXY, X-Forwarded-Proto is anyone's to send: ignored."""
    response = await operator.get("/users/me", headers={"X-Forwarded-Proto": "https"})
    assert response.status == 200
    assert "Strict-Transport-Security" not in response.headers
    plain = await operator.get("/users/me")
    assert "Strict-Transport-Security" not in plain.headers


async def test_behind_a_trusted_proxy_https_gets_hsts(start_asgard: StartAsgard) -> None:
    asgard = await start_asgard(trust_proxy=True)
    team = await asgard.account("team")
    viewer = await asgard.caller("v@example.com", roles={team.id: Role.VIEWER})
    over_https = await viewer.get("/users/me", headers={"X-Forwarded-Proto": "https"})
    assert over_https.headers["Strict-Transport-Security"] == HSTS
    answer, _ = await login(asgard.client, viewer.key, **{"X-Forwarded-Proto": "https"})
    assert answer.status == 303
    assert answer.headers["Strict-Transport-Security"] == HSTS
    assert "Secure" in answer.headers["Set-Cookie"]
    over_http = await viewer.get("/users/me", headers={"X-Forwarded-Proto": "http"})
    assert "Strict-Transport-Security" not in over_http.headers
    unsaid = await viewer.get("/users/me")
    assert "Strict-Transport-Security" not in unsaid.headers


@pytest.fixture
def tls_context(tmp_path: Path) -> ssl.SSLContext:
    """A self-signed certificate for 127.0.0.1, made by openssl for this test."""
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1"),
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


@pytest.fixture
async def tls_server(
    tmp_path: Path, sqlite_url: str, tls_context: ssl.SSLContext
) -> AsyncIterator[TestServer]:
    app = create_app(make_settings(tmp_path, sqlite_url), orchestrator=Orchestrator([]))
    server = TestServer(app)
    await server.start_server(ssl=tls_context)
    yield server
    await server.close()


async def test_asgard_serving_tls_itself_sends_hsts(tls_server: TestServer) -> None:
    url = tls_server.make_url("/health")
    async with aiohttp.ClientSession() as session, session.get(url, ssl=False) as response:
        assert response.url.scheme == "https"
        assert response.status == 200
        assert response.headers["Strict-Transport-Security"] == HSTS
        assert response.headers["Cache-Control"] == "no-store"


async def test_metrics_are_open_without_a_token(asgard: AsgardUnderTest) -> None:
    response = await asgard.client.get("/metrics")
    assert response.status == 200
    assert "asgard_http_requests" in await response.text()


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer wrong-token",
        f"Token {METRICS_TOKEN}",
        f"Bearer {METRICS_TOKEN}x",
        f"Bearer {METRICS_TOKEN[:-1]}",
        "Bearer ",
    ],
)
async def test_metrics_with_a_token_refuse_anything_else(
    start_asgard: StartAsgard, authorization: str | None
) -> None:
    asgard = await start_asgard(metrics_token=METRICS_TOKEN)
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = await asgard.client.get("/metrics", headers=headers)
    assert response.status == 401
    body = await response.json()
    assert "Bearer" in body["errors"][0]["msg"]
    assert METRICS_TOKEN not in await response.text()
    assert "WWW-Authenticate" in response.headers


async def test_metrics_with_a_token_answer_its_bearer(start_asgard: StartAsgard) -> None:
    asgard = await start_asgard(metrics_token=METRICS_TOKEN)
    response = await asgard.client.get(
        "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
    )
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    assert "asgard_http_requests" in await response.text()
    assert (await asgard.client.get("/health")).status == 200, "/health stays open"

    url = str(asgard.client.make_url("")).rstrip("/")
    async with AsgardClient(url, "asg_not_a_key") as client:  # the Python client, as a scraper
        assert "asgard_http_requests" in await client.metrics(token=METRICS_TOKEN)
